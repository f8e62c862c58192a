"""The main window: wires the document, the views, the render worker, the file commands and settings together."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QSplitter

from spade import SpadeRenderer
from spade.labels import ade20k
from spade.paths import DEFAULT_MODEL_DIR, STYLES_DIR

from . import prompts
from .actions import TOOLS, ActionSet, shortcut_sheet_html
from .autosaver import Autosaver
from .canvas import SketchCanvas
from .dialogs import ABOUT_HTML, PreferencesDialog
from .document import Document
from .document_controller import DocumentController
from .history_view import HistoryView
from .icons import app_icon
from .label_match import follow_model, mismatch_message, sets_differ
from .model_controller import ModelController
from .palette import Palette
from .photo_view import PhotoView
from .recovery import RecoveryStore
from .render_worker import RenderController
from .rendering import RenderResult
from .settings import AppSettings
from .style_controller import StyleController
from .style_panel import StylePanel
from .window_bars import DockWidths, OptionsBar, PhotoFullWindow, StatusFields, ToolsBar, add_docks

EMPTY_STATE = ("No model loaded.\n\nChoose Model ▸ Load Model Folder… (Ctrl+M) for a Gauguin checkpoint folder, "
               "or Model ▸ Load Model File… for an official SPADE checkpoint (latest_net_G.pth).\n"
               "From a terminal: gauguin\u00a0\u2011\u2011model\u00a0PATH\n\n"
               "Paint away meanwhile: the photo appears as soon as a model is loaded.")
TOOL_INFO = {name: (label, key, help_text) for name, label, key, help_text in TOOLS}


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings, *, model_path: str | None = None, load_model: bool = True,
                 recovery: RecoveryStore | None = None, renderer: SpadeRenderer | None = None):
        super().__init__()
        self.settings = settings
        self.renderer: SpadeRenderer | None = None
        self.model_ref = ""
        self.last_render_ms: float | None = None
        self.loading_what: str | None = None  # the model being loaded, shown while there is none
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1400, 820)

        self.canvas, self.photo, self.style_panel = SketchCanvas(), PhotoView(), StylePanel()
        self.palette = Palette(ade20k(), settings=settings, official=settings.official_colours)
        self.canvas.official = settings.official_colours
        self.history = HistoryView()
        self.controller = RenderController(self)
        self.models = ModelController(self, settings, lambda: self.renderer)
        self.loader = self.models.loader
        self.styles = StyleController(lambda: self.doc, lambda: self.renderer, self, settings,
                                      status=lambda text, ms: self.show_status(text, ms))
        self.autosaver = Autosaver(recovery, lambda: self.doc, settings.autosave_seconds, self)
        self.files = DocumentController(self, self, settings, self.autosaver)
        self._build_layout()
        self._build_actions()
        self.status = StatusFields(self)
        for part, names in ((self.options, "brush_slider brush_label overlay_check overlay_opacity"),
                            (self.status, "cursor_label zoom_label model_label device_label render_label "
                                          "loading_label loading_bar")):
            for name in names.split():
                setattr(self, name, getattr(part, name))  # the bars' widgets, as if they were the window's own
        self._connect()

        self.set_renderer(renderer, model_path or "")
        size = self.renderer.default_size if self.renderer else (256, 256)
        self.set_document(Document.starter(*size, self.renderer.label_set if self.renderer else None), starter=True)
        if renderer is None and load_model:
            self.models.load(model_path or self.settings.model_path or None, startup=True)
        self.palette.select(self.palette.current, emit=True)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is None or not self.restoreState(state):   # room for three columns of presets, history below
            self.resizeDocks([self.docks["palette"], self.docks["style"]], [230, 290], Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["style"], self.docks["history"]], [560, 160], Qt.Orientation.Vertical)

    def _build_layout(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(self.photo)
        split.setChildrenCollapsible(False)
        split.setSizes([1, 1])
        self.setCentralWidget(split)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.palette.setMinimumWidth(180)
        self.style_panel.set_presets(sorted(STYLES_DIR.glob("*.png")) + sorted(STYLES_DIR.glob("*.jpg"))
                                     if STYLES_DIR.is_dir() else [])
        self.docks = add_docks(self, [("palette", "Classes", self.palette, left),
                                      ("style", "Style", self.style_panel, right),
                                      ("history", "History", self.history, right)])
        self.history.setMinimumHeight(60)
        self.dock_widths = DockWidths(self, [self.docks["palette"], self.docks["style"]])

    def _build_actions(self) -> None:
        self.actions = ActionSet(self)
        self.actions.build_menus(self.menuBar())
        a = self.actions
        self.tool_actions = {t: a[f"tool_{t}"] for t in TOOL_INFO}
        self.undo_action, self.redo_action, self.dice_action = a["undo"], a["redo"], a["dice"]
        self.overlay_action, self.model_info_action = a["overlay"], a["model_info"]
        a["official_colours"].setChecked(self.settings.official_colours)
        self.random_style_action, self.style_photo_action = a["random_style"], a["style_photo"]
        self.recent_menu, self.examples_menu = a.submenus["recent"], a.submenus["examples"]
        self.files.fill_examples_menu(self.examples_menu)
        self.files.fill_recent_menu(self.recent_menu)
        self.tool_actions["brush"].setChecked(True)
        self.tools_bar, self.options = ToolsBar(a, list(TOOL_INFO)), OptionsBar(a)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.tools_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.options)
        self.full_view = PhotoFullWindow(self, a["photo_full"], [self.tools_bar, self.options, *self.docks.values()])

    def _connect(self) -> None:
        self.controller.result_ready.connect(self._on_result)
        self.controller.render_failed.connect(self._on_render_failed)
        self.controller.busy_changed.connect(self.photo.set_busy)
        self.models.model_ready.connect(self._on_model_ready)
        self.models.loading.connect(self._on_loading)
        self.models.status.connect(self.show_status)
        self.autosaver.failed.connect(lambda text: self.show_status(text, 8000))
        self.palette.class_selected.connect(self._class_selected)
        self.palette.search_done.connect(self.canvas.setFocus)
        self.history.step_chosen.connect(self.go_to_step)
        self.photo.full_requested.connect(self.full_view.toggle)
        self.docks["history"].visibilityChanged.connect(self.actions["history"].setChecked)
        self.canvas.class_picked.connect(lambda cid: self.palette.select(cid))
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.canvas.view_changed.connect(lambda: self.zoom_label.setText(f"{self.canvas.scale * 100:.0f}%"))
        self.canvas.stroke_finished.connect(self._stroke_finished)
        self.brush_slider.valueChanged.connect(self._brush_moved)
        self.overlay_check.toggled.connect(self._overlay_changed)
        self.overlay_opacity.valueChanged.connect(lambda _: self._overlay_changed(self.overlay_check.isChecked()))
        self.style_panel.photo_requested.connect(self.styles.pick_photo)
        self.style_panel.random_requested.connect(self.styles.random)
        self.style_panel.preset_chosen.connect(lambda p: self.styles.set_photo(p, "a"))
        self.style_panel.blend_changed.connect(self.styles.set_blend)

    # == document ========================================================================================
    def set_document(self, doc: Document, starter: bool = False) -> None:
        """Show `doc` (replacing the current one; the caller has asked about unsaved changes).

        `starter` marks the sketch the app opens with: a model that finishes loading later may resize it.
        All or nothing: when `doc` cannot be shown, the previous document is shown again and the error raised.
        """
        previous = getattr(self, "doc", None), getattr(self, "_starter_doc", False)
        try:
            self._show_document(doc, starter)
        except Exception:
            for listeners, fn in self._listeners(doc):
                if fn in listeners:
                    listeners.remove(fn)
            if previous[0] is not None:
                self._show_document(*previous)
            raise

    def _listeners(self, doc: Document) -> tuple:
        """(list, the window's callback) for each kind of change `doc` reports."""
        return (doc.listeners, self._on_doc_changed), (doc.style_listeners, self._on_style_changed)

    def _show_document(self, doc: Document, starter: bool) -> None:
        self.doc = doc
        self._starter_doc = starter
        for listeners, fn in self._listeners(doc):
            if fn not in listeners:
                listeners.append(fn)
        self.controller.source.document = doc
        self.palette.show_sketch_and_model(doc.label_set, self.renderer)
        self.canvas.class_id = self.palette.current
        self.canvas.set_document(doc)
        self.photo.set_sketch(self.canvas.sketch, doc.shape)
        self.photo.set_photo(None)
        brush = doc.canvas.brush_size if doc.path else max(1, round(self.settings.brush_share * max(doc.shape)))
        self.options.show_settings(doc.shape, brush, doc.canvas.overlay, doc.canvas.overlay_opacity)
        self._brush_changed(self.brush_slider.value())
        self._overlay_changed(doc.canvas.overlay)
        self.autosaver.forget()
        self.controller.invalidate()
        self._refresh_style_panel()
        self.update_title()
        self._update_undo_actions()
        self.request_render()

    def show_status(self, text: str, ms: int = 4000) -> None:
        self.statusBar().showMessage(text, ms)

    def update_title(self) -> None:
        self.setWindowTitle(f"Gauguin — {self.files.document_name()}[*]")
        self.setWindowModified(self.doc.dirty)

    def _update_undo_actions(self) -> None:
        st = self.doc.undo_stack
        self.undo_action.setEnabled(st.can_undo)
        self.redo_action.setEnabled(st.can_redo)
        self.undo_action.setText(f"&Undo {st.undo_name.capitalize()}".rstrip())
        self.redo_action.setText(f"&Redo {st.redo_name.capitalize()}".rstrip())
        self.history.show_stack(st)

    def go_to_step(self, position: int) -> None:
        if not self.doc.in_stroke:
            self.doc.go_to(position)
            self._stroke_finished()

    def toggle_history(self) -> None:
        self.docks["history"].setVisible(not self.docks["history"].isVisible())

    def _on_doc_changed(self, box) -> None:
        if not self.doc.label_set.same_classes(self.palette.label_set):   # a conversion, done or undone
            self.palette.show_sketch_and_model(self.doc.label_set, self.renderer)
            self.canvas.class_id = self.palette.current
        if not self.doc.in_stroke:
            self._update_undo_actions()
        self.setWindowModified(True)
        if self.settings.live_render or not self.doc.in_stroke:
            self.request_render()

    def _stroke_finished(self) -> None:
        self._update_undo_actions()
        self.update_title()
        self.request_render()

    def _on_style_changed(self) -> None:
        self._refresh_style_panel()
        self.update_title()
        self.request_render()

    def _refresh_style_panel(self) -> None:
        r = self.renderer
        self.style_panel.set_capabilities(bool(r and r.uses_style), bool(r and r.has_encoder), r.name if r else None,
                                          self.loading_what)
        self.style_panel.show_style(self.doc.style)
        ok = bool(r and r.uses_style)
        self.random_style_action.setEnabled(ok)
        self.dice_action.setEnabled(ok)
        self.dice_action.setToolTip(self.random_style_action.toolTip() if ok else
                                    "Random style: needs a model with a style input" if r else
                                    "Random style: load a model first")
        self.style_photo_action.setEnabled(ok and r.has_encoder)

    def step(self, delta: int) -> None:
        """Undo (-1) or redo (+1) one step."""
        self.go_to_step(self.doc.undo_stack.position + delta)

    def fill_canvas(self) -> None:
        self.doc.replace_labels(np.full(self.doc.shape, self.palette.current), "fill canvas")
        self._stroke_finished()

    def set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        self.tool_actions[tool].setChecked(True)
        label, key, help_text = TOOL_INFO[tool]
        self.show_status(f"{label} ({key}): {help_text}")

    def _brush_moved(self, v: int) -> None:
        """The user set the brush: new canvases get one as large for their size."""
        self.settings.brush_share = v / max(self.doc.shape)
        self._brush_changed(v)

    def _brush_changed(self, v: int) -> None:
        self.canvas.brush_size = v
        if hasattr(self, "doc"):
            self.doc.canvas.brush_size = v
        self.brush_label.setText(f"{v} px")
        self.canvas.update()

    def _class_selected(self, cid: int) -> None:
        self.canvas.class_id = cid
        if self.canvas.tool in ("eraser", "eyedropper"):
            self.set_tool("brush")
        self.canvas.update()

    def _cursor_moved(self, x: int, y: int, cid: int) -> None:
        self.cursor_label.setText("" if cid < 0 else f"{x}, {y} · {self.doc.label_set.names[cid]}")

    def _overlay_changed(self, on: bool) -> None:
        opacity = self.overlay_opacity.value() / 100.0
        self.overlay_action.setChecked(on)
        self.photo.set_overlay(on, opacity)
        if hasattr(self, "doc"):
            self.doc.canvas.overlay, self.doc.canvas.overlay_opacity = on, opacity

    # == rendering =======================================================================================
    def request_render(self) -> None:
        if self.renderer is not None and sets_differ(self.doc, self.renderer.label_set):
            self.photo.set_photo(None)
            self.photo.set_message(mismatch_message(self.doc, self.renderer.label_set))
        elif self.renderer is not None:
            self.controller.request()

    def _on_result(self, result: RenderResult) -> None:
        if result.labels_shape != self.doc.shape:
            return
        self.doc.latents.update(result.latents)
        self.photo.set_message("")
        self.photo.set_photo(result.image)
        self.last_render_ms = result.ms
        self.render_label.setText(f"{'exact photo' if result.exact else 'preview'} · {result.ms:.0f} ms")
        self.render_label.setToolTip("The photo shown is the exact frame" if result.exact else
                                     "The photo shown is a fast preview of the stroke; the exact frame replaces "
                                     "it when the pointer rests or the stroke ends")

    def _on_render_failed(self, message: str) -> None:
        self.photo.set_message(f"The model could not render: {message}. Your sketch is safe.")
        self.show_status(f"Render failed: {message}", 8000)

    # == models ==========================================================================================
    def set_renderer(self, renderer: SpadeRenderer | None, ref: str = "") -> None:
        self.renderer = self.controller.source.renderer = renderer
        self.model_ref = ref
        self.controller.invalidate()
        if hasattr(self, "doc"):
            self.palette.show_sketch_and_model(self.doc.label_set, renderer)
            self.canvas.class_id = self.palette.current
        if renderer is None:
            self.photo.set_photo(None)
        self.status.set_model(renderer)
        self._show_model_state()
        self.model_info_action.setEnabled(renderer is not None)
        if hasattr(self, "doc"):
            self._refresh_style_panel()
            self.request_render()

    def _on_loading(self, what: str | None) -> None:
        """A model started (`what`) or stopped (None) loading."""
        self.loading_what = what
        self.status.set_loading(what)
        if self.renderer is None:
            self._show_model_state()
            self._refresh_style_panel()

    def _show_model_state(self) -> None:
        """Without a model the photo panel and the palette say whether one is loading or how to load one."""
        loading = self.loading_what if self.renderer is None else None
        self.photo.set_message("" if self.renderer else f"Loading {loading}…" if loading else EMPTY_STATE)
        self.palette.set_loading(loading)
        if self.renderer is None:
            self.model_label.setText("model: loading…" if loading else "no model")

    def _on_model_ready(self, renderer: SpadeRenderer, ref: str) -> None:
        self.set_renderer(renderer, ref)
        if self._starter_doc and not self.doc.dirty and (self.doc.shape != renderer.default_size
                                                          or sets_differ(self.doc, renderer.label_set)):
            self.set_document(Document.starter(*renderer.default_size, renderer.label_set), starter=True)
        else:
            self.follow_model_label_set()

    def follow_model_label_set(self) -> None:
        """A sketch in another label set than the model's is converted when the user agrees (label_match)."""
        converted = follow_model(self.doc, self.renderer, lambda q: prompts.ask_yes_no(self, q, "Another label set"))
        if converted is not None:
            self._stroke_finished()
            prompts.show_info(self, converted, "Sketch converted")

    def toggle_official_colours(self) -> None:
        """Draw the classes in their label set's own colours, or in the distinct display palette (the View
        menu's check box); files use the label set's own colours either way."""
        official = self.actions["official_colours"].isChecked()
        self.settings.official_colours = official
        self.canvas.set_official_colours(official)
        self.palette.set_official_colours(official)
        self.photo.update()

    def show_help(self, which: str) -> None:
        if which == "shortcuts":
            prompts.show_sheet(self, shortcut_sheet_html(), "Keyboard shortcuts")
        else:
            prompts.show_info(self, ABOUT_HTML, "About Gauguin")

    # == drag and drop, preferences, closing ============================================================
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls() and any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        files = [Path(u.toLocalFile()) for u in e.mimeData().urls() if u.isLocalFile()]
        if files:
            e.acceptProposedAction()
            self.files.open_dropped(files[0])

    def preferences(self) -> None:
        device_changed = PreferencesDialog.edit(self.settings, self)
        if device_changed is not None:
            self.autosaver.set_interval(self.settings.autosave_seconds)
        if device_changed and self.renderer is not None:
            bundled = self.model_ref in ("", str(DEFAULT_MODEL_DIR.resolve()))
            self.models.load(None if bundled else self.model_ref)

    def showEvent(self, e: QShowEvent) -> None:  # noqa: N802
        super().showEvent(e)
        if not self.dock_widths.wanted:
            self.dock_widths.remember()

    def resizeEvent(self, e: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(e)
        self.dock_widths.window_resized()

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if not self.files.maybe_save():
            e.ignore()
            return
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.autosaver.stop()
        self.loader.shutdown()
        self.controller.shutdown()
        self.autosaver.discard()
        e.accept()
