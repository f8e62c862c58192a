"""File commands: new, open, save, save as, masks, export, recent files, dropped files and crash recovery.

Questions and messages go through `ask` (the prompts module unless a test or another front end passes its
own), and the window is reached only through the small `DocumentHost` protocol below.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Protocol

from PIL import Image, UnidentifiedImageError
from PySide6.QtWidgets import QMenu, QWidget

from spade import GauguinError, SpadeRenderer, read_mask, write_color_png, write_index_png
from spade.labels import LabelSet, labels_from_image
from spade.limits import check_canvas_size
from spade.paths import EXAMPLES_DIR

from . import prompts
from .autosaver import Autosaver
from .dialogs import NewCanvasDialog
from .docfile import SUFFIX, DocumentError, read_document, write_document
from .document import Document
from .export import write_export
from .model_controller import ModelController
from .model_loader import load_message
from .model_match import ELSEWHERE, MISSING, match_model
from .photo_view import PhotoView
from .recovery import RecoveryStore
from .render_worker import RenderController
from .settings import AppSettings
from .style_controller import StyleController

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
OPEN_FILTER = f"Gauguin documents and masks (*{SUFFIX} *.png *.bmp *.tif *.tiff *.gif *.webp);;All files (*)"
EXPORT_SUFFIXES = {"photo": "", "sketch": "_sketch", "side_by_side": "_side_by_side"}
MAX_MASK_PIXELS = 4096 * 4096


class DocumentHost(Protocol):
    """What the controller needs from the window."""

    doc: Document
    renderer: SpadeRenderer | None
    model_ref: str
    styles: StyleController
    models: ModelController
    photo: PhotoView
    controller: RenderController

    def set_document(self, doc: Document) -> None: ...
    def follow_model_label_set(self) -> None: ...
    def update_title(self) -> None: ...
    def show_status(self, text: str, ms: int = 4000) -> None: ...


def looks_like_mask(path: Path, label_set) -> bool:
    """Whether an image reads as a label map (index image, or only palette colours) rather than a photo."""
    if not path.is_file():
        return True  # not a regular file (a folder, a pipe): open_path says so without reading it
    try:
        with Image.open(path) as img:
            if img.mode in ("L", "P", "I", "I;16"):
                return True
            if img.width * img.height > MAX_MASK_PIXELS:
                return False
            img.load()
            labels_from_image(img, label_set)
            return True
    except (GauguinError, OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return False


def read_canvas_mask(path: Path, label_set: LabelSet):
    """A mask to paint on: read, and no larger than the canvas limit."""
    labels = read_mask(path, label_set)
    check_canvas_size(*labels.shape, f"the mask {path.name}")
    return labels


class DocumentController:
    def __init__(self, host: DocumentHost, parent: QWidget, settings: AppSettings, autosaver: Autosaver,
                 ask: ModuleType = prompts):
        self.host = host
        self.parent = parent
        self.settings = settings
        self.autosaver = autosaver
        self.ask = ask
        self.mask_path: Path | None = None  # the mask the sketch came from or was last saved to
        self.recent_menu: QMenu | None = None

    # -- names ----------------------------------------------------------------------------------------
    @property
    def doc(self) -> Document:
        return self.host.doc

    def document_name(self) -> str:
        if self.doc.path:
            return self.doc.path.name
        return f"{self.mask_path.stem} (mask)" if self.mask_path else "Untitled"

    def stem(self) -> str:
        """The name to suggest for any file written from this sketch."""
        if self.doc.path:
            return self.doc.path.stem
        return self.mask_path.stem if self.mask_path else "Untitled"

    def _suggest(self, kind: str, name: str) -> str:
        """Where a save dialog for `kind` starts: next to a saved document (its exports and masks belong with
        it), else in the folder last used for `kind`."""
        folder = self.doc.path.parent if self.doc.path is not None and self.doc.path.parent.is_dir() else None
        return str(Path(folder or self.settings.folder(kind)) / name)

    # -- new / open -----------------------------------------------------------------------------------
    def maybe_save(self, before: str = "closing") -> bool:
        """Ask about unsaved changes before `before` (closing, opening …); True when the document may go."""
        if not self.doc.dirty:
            return True
        answer = self.ask.ask_save_changes(self.parent, self.document_name(), before)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_canvas(self) -> None:
        if not self.maybe_save("starting a new canvas"):
            return
        r = self.host.renderer
        sizes = r.supported_sizes() if r else [(256, 256), (512, 512), (256, 512), (512, 1024)]
        dialog = NewCanvasDialog(sizes, r.size_rule if r else "", self.painting_label_set(), self.parent)
        if dialog.exec():
            (h, w), fill = dialog.choice()
            self.mask_path = None
            self.host.set_document(self._with_current_style(Document.blank(h, w, fill, self.painting_label_set())))

    def painting_label_set(self) -> LabelSet:
        """The set new sketches and opened masks are in: the loaded model's, else the current sketch's."""
        return self.host.renderer.label_set if self.host.renderer else self.doc.label_set

    def open_dialog(self) -> None:
        path = self.ask.ask_open_path(self.parent, "Open", self.settings.folder("open"), OPEN_FILTER)
        if path:
            self.settings.set_folder("open", path)
            self.open_path(path)

    def open_path(self, path: str | Path, ask: bool = True) -> bool:
        """Open a .gauguin document or a mask (index PNG or palette RGB). Errors become one-line messages."""
        path = Path(path)
        if ask and not self.maybe_save(f"opening {path.name}"):
            return False
        try:
            if path.suffix.lower() == SUFFIX:
                doc = read_document(path)[0]
            else:
                doc = Document(read_canvas_mask(path, self.painting_label_set()), self.painting_label_set())
        except GauguinError as e:
            self.ask.show_error(self.parent, str(e))
            if not path.exists():
                self.settings.remove_recent(path)
                self.fill_recent_menu()
            return False
        error = self._show(doc if doc.path is not None else self._with_current_style(doc),
                           None if doc.path is not None else path)
        if error:
            self.ask.show_error(self.parent, f"Cannot show {path.name}: {error}")
            return False
        self.settings.add_recent(doc.path or path)
        self.fill_recent_menu()
        note = self._model_note(doc) if doc.path is not None else ""
        if not self.host.models.pending_ref():  # a model being loaded asks when it is ready
            self.host.follow_model_label_set()
        self.host.show_status(f"Opened {path.name}" + (f" — {note}" if note else ""), 15000 if note else 4000)
        return True

    def _show(self, doc: Document, mask_path: Path | None) -> str:
        """Show `doc` (from the mask `mask_path`, if any) in the window; '' or why it cannot be shown. On a
        failure set_document has put the previous sketch back, so the window is exactly as it was."""
        previous, self.mask_path = self.mask_path, mask_path
        try:
            self.host.set_document(doc)
        except Exception as e:
            self.mask_path = previous
            return load_message(e)
        return ""

    def _with_current_style(self, doc: Document) -> Document:
        """A new sketch keeps the style the user chose (a document brings its own)."""
        doc.style = self.doc.style
        doc.latents.update(self.doc.latents)
        return doc

    def _model_note(self, doc: Document) -> str:
        """Offer to load the document's model when it is elsewhere on disk, else say where the photo comes from."""
        r = self.host.renderer
        match = match_model(doc.model_ref, self.host.model_ref, self.host.models.pending_ref(), r.name if r else None)
        name, ref = match.name, doc.model_ref
        current = f"the model {r.name}" if r else "no model loaded"
        if match.kind == ELSEWHERE:
            loaded = f"the loaded model is {r.name}" if r else "no model is loaded"
            question = (f"{doc.path.name} was made with the model “{name}” ({ref}); {loaded}. "
                        f"Load “{name}” to get the same photo?")
            if self.ask.ask_yes_no(self.parent, question, "Different model"):
                self.host.models.load(ref)
                return f"loading its model {name}"
            return f"made with the model {name}; rendering with {current}"
        if match.kind == MISSING:
            return f"made with the model {name}, which is not found ({ref}); rendering with {current}"
        return ""

    # -- save / export --------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.doc.path is None or self.doc.path.suffix.lower() != SUFFIX:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        path = self._ask_save("save", "Save document", self.stem() + SUFFIX, f"Gauguin documents (*{SUFFIX})",
                              {SUFFIX})
        return path is not None and self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        self.doc.model_ref = self.host.model_ref or self.doc.model_ref
        try:
            write_document(path, self.doc)
        except (DocumentError, OSError, ValueError) as e:
            self.ask.show_error(self.parent, str(e))
            return False
        self.doc.path = path
        self.doc.mark_saved()
        self.settings.add_recent(path)
        self.fill_recent_menu()
        self.autosaver.discard()
        self.host.update_title()
        self.host.show_status(f"Saved {path.name}")
        return True

    def save_mask(self, with_color: bool) -> bool:
        path = self._ask_save("mask", "Save mask (index PNG)", f"{self.stem()}.png", "Index PNG (*.png)", {".png"})
        if path is None:
            return False
        try:
            write_index_png(path, self.doc.labels, self.doc.label_set)
            if with_color:
                write_color_png(path.with_name(f"{path.stem}_color.png"), self.doc.labels, self.doc.label_set)
        except (GauguinError, OSError, ValueError) as e:
            self.ask.show_error(self.parent, f"Cannot save the mask: {e}")
            return False
        self.mask_path = path
        self.host.show_status(f"Saved mask {path.name}")
        return True

    def export(self, kind: str) -> bool:
        """Export the photo, the sketch or both side by side as PNG or JPEG."""
        photo = self.host.controller.exact_photo(self.host.photo.photo_array) if kind != "sketch" else None
        if kind != "sketch" and photo is None:
            self.ask.show_error(self.parent, "There is no photo to export yet."
                                + ("" if self.host.renderer else " Load a model first."))
            return False
        path = self._ask_save("export", "Export", f"{self.stem()}{EXPORT_SUFFIXES[kind]}.png",
                              "PNG (*.png);;JPEG (*.jpg *.jpeg)", {".png", ".jpg", ".jpeg"})
        if path is None:
            return False
        try:
            write_export(path, kind, self.doc.labels, self.doc.label_set, photo)
        except (OSError, ValueError) as e:
            self.ask.show_error(self.parent, f"Cannot export: {e}")
            return False
        self.host.show_status(f"Exported {path.name}")
        return True

    def _ask_save(self, kind: str, caption: str, name: str, filters: str, allowed: set[str]) -> Path | None:
        """A save dialog in the folder last used for `kind`; adds the extension of `name` when the answer has none
        of `allowed` (asking before replacing a file the dialog did not see) and remembers the folder."""
        answer = self.ask.ask_save_path(self.parent, caption, self._suggest(kind, name), filters)
        if not answer:
            return None
        p = Path(answer)
        if p.suffix.lower() not in allowed:
            p = p.with_name(p.name + Path(name).suffix)
            if p.exists() and not self.ask.ask_yes_no(self.parent, f"{p.name} already exists. Replace it?"):
                return None
        self.settings.set_folder(kind, p)
        return p

    # -- menus ----------------------------------------------------------------------------------------
    def fill_recent_menu(self, menu: QMenu | None = None) -> None:
        self.recent_menu = menu or self.recent_menu
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        files = self.settings.recent_files
        for f in files:
            a = self.recent_menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.triggered.connect(lambda _=False, p=f: self.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    def fill_examples_menu(self, menu: QMenu) -> None:
        examples = sorted(EXAMPLES_DIR.glob("*.png")) if EXAMPLES_DIR.is_dir() else []
        for p in examples:
            a = menu.addAction(p.stem.replace("_", " ").replace("-", " ").capitalize())
            a.triggered.connect(lambda _=False, path=p: self.open_path(path))
        menu.setEnabled(bool(examples))

    # -- drops and recovery ---------------------------------------------------------------------------
    def open_dropped(self, path: Path) -> None:
        """A document opens; a mask (index or palette image) opens as a sketch; any other image is a style."""
        suffix = path.suffix.lower()
        if suffix != SUFFIX and suffix not in IMAGE_SUFFIXES:
            self.ask.show_error(self.parent, f"{path.name}: drop a photo (for its style), a mask or a {SUFFIX} "
                                             "document.")
        elif suffix == SUFFIX or looks_like_mask(path, self.painting_label_set()):
            self.open_path(path)
        else:
            self.host.styles.set_photo(path, "a")

    def check_recovery(self) -> bool:
        """After a crash, offer the work crashed sessions autosaved, newest first, until one is taken (the
        rest wait for the next start; unreadable ones are kept aside with a message). True when recovered.
        The recovered sketch has no file of its own: Save asks where to put it."""
        store = self.autosaver.store
        if store is None:
            return False
        orphans, problems = store.recoverable()
        for text in problems:
            self.ask.show_error(self.parent, text)
        for orphan in orphans:
            if self.ask.ask_yes_no(self.parent, f"Gauguin did not close properly. Recover the unsaved work in "
                                                f"{orphan.describe()}?", "Recover work"):
                error = self._show(orphan.doc, None)
                if error:  # kept for a person to look at; the window shows what it showed before
                    self.ask.show_error(self.parent, store.set_aside(orphan.path, f"{orphan.path.name}: {error}"))
                    continue
                self.autosaver.save()
                RecoveryStore.forget(orphan)
                self.host.show_status(f"Recovered {orphan.describe()}; it is not saved yet", 15000)
                return True
            RecoveryStore.forget(orphan)
        return False
