"""The main window: wires the document, the views, the render worker, files and settings together."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QDockWidget, QLabel, QMainWindow, QProgressBar, QSlider, QSplitter,
                               QToolBar, QWidget)

from spade import GauguinError, SpadeRenderer, read_mask, write_color_png, write_index_png
from spade.inference import read_style_image
from spade.labels import ade20k, labels_from_image
from spade.limits import check_canvas_size
from spade.paths import DEFAULT_MODEL_DIR, EXAMPLES_DIR, STYLES_DIR

from . import prompts
from .canvas import SketchCanvas
from .dialogs import NewCanvasDialog, PreferencesDialog, model_info_html
from .docfile import SUFFIX, DocumentError, read_document, write_document
from .document import Document, StyleSource
from .export import write_export
from .icons import app_icon, tool_icon
from .palette import Palette
from .photo_view import PhotoView
from .recovery import RecoveryStore
from .model_loader import LoadRequest, ModelLoader
from .render_worker import RenderController
from .rendering import RenderJob, RenderResult
from .settings import AppSettings
from .style_panel import StylePanel

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
MASK_FILTER = "Masks (*.png *.bmp *.tif *.tiff *.gif *.webp)"
OPEN_FILTER = f"Gauguin documents and masks (*{SUFFIX} *.png *.bmp *.tif *.tiff *.gif *.webp);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff);;All files (*)"
EMPTY_STATE = ("No model loaded.\n\nChoose Model ▸ Load Model Folder… (Ctrl+M) for a Gauguin checkpoint folder, "
               "or Model ▸ Load Model File… for an official SPADE checkpoint (latest_net_G.pth).\n"
               "From a terminal: gauguin\u00a0\u2011\u2011model\u00a0PATH\n\n"
               "Paint away meanwhile: the photo appears as soon as a model is loaded.")
TOOL_KEYS = {"brush": ("Brush", "B"), "eraser": ("Eraser", "E"), "fill": ("Fill", "G"), "line": ("Line", "L"),
             "polygon": ("Polygon / Lasso", "P"), "eyedropper": ("Eyedropper", "I")}
TOOL_HELP = {"brush": "paint the current class with a round brush",
             "eraser": "paint 'unlabeled' (class 0)",
             "fill": "fill the connected region under the cursor",
             "line": "drag a straight line as wide as the brush",
             "polygon": "click corners (double-click or Enter closes), or drag a freehand lasso",
             "eyedropper": "pick the class under the cursor (Alt+click or right-click with any tool)"}


def _same_path(a: str, b: str) -> bool:
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return a == b


def default_labels(height: int, width: int) -> np.ndarray:
    """A starting sketch: sky over a grassy field, so the first photo is already a landscape."""
    ls = ade20k()
    labels = np.full((height, width), ls.id_of("sky"), dtype=np.uint8)
    labels[int(height * 0.62):] = ls.id_of("grass")
    return labels


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings, *, model_path: str | None = None, load_model: bool = True,
                 recovery: RecoveryStore | None = None, renderer: SpadeRenderer | None = None):
        super().__init__()
        self.settings = settings
        self.recovery = recovery
        self.renderer: SpadeRenderer | None = None
        self.model_ref = ""
        self.last_render_ms: float | None = None
        self.last_mask_path: Path | None = None
        self._autosaved_revision = -1
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1400, 820)

        self.canvas = SketchCanvas()
        self.photo = PhotoView()
        self.palette = Palette(ade20k())
        self.style_panel = StylePanel()
        self.controller = RenderController(self._make_job, self)
        self.controller.result_ready.connect(self._on_result)
        self.controller.render_failed.connect(self._on_render_failed)
        self.controller.busy_changed.connect(self.photo.set_busy)
        self.loader = ModelLoader(self)
        self.loader.loaded.connect(self._on_model_loaded)
        self.loader.failed.connect(self._on_model_failed)
        self.loader.busy_changed.connect(self._on_loading_changed)

        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self._connect()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(self.settings.autosave_seconds * 1000)

        self.set_renderer(renderer, model_path or "")
        size = self.renderer.default_size if self.renderer else (256, 256)
        self.set_document(Document(default_labels(*size)), starter=True)
        if renderer is None and load_model:
            self.load_model(model_path or self.settings.model_path or None, startup=True)
        self.palette.select(self.palette.current, emit=True)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # == layout ==========================================================================================
    def _build_layout(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(self.photo)
        split.setChildrenCollapsible(False)
        split.setSizes([1, 1])
        self.setCentralWidget(split)
        for title, widget, area, name in (("Classes", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea, "palette"),
                                          ("Style", self.style_panel, Qt.DockWidgetArea.RightDockWidgetArea, "style")):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(area, dock)
        self.palette.setMinimumWidth(210)
        self.style_panel.setMinimumWidth(250)
        self.style_panel.set_presets(sorted(STYLES_DIR.glob("*.png")) + sorted(STYLES_DIR.glob("*.jpg"))
                                     if STYLES_DIR.is_dir() else [])

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        a.setCheckable(checkable)
        keys = " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        a.setToolTip(f"{tip or text.replace('…', '')}" + (f" ({keys})" if keys else ""))
        a.setStatusTip(tip or text)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self._action("&New Canvas…", self.new_canvas, QKeySequence.StandardKey.New))
        m.addAction(self._action("&Open…", self.open_dialog, "Ctrl+O", "Open a .gauguin document or a mask"))
        self.recent_menu = m.addMenu("Open &Recent")
        self.examples_menu = m.addMenu("E&xamples")
        self._fill_examples_menu()
        self._fill_recent_menu()
        m.addSeparator()
        self.save_action = self._action("&Save", self.save, "Ctrl+S", "Save the document")
        m.addAction(self.save_action)
        m.addAction(self._action("Save &As…", self.save_as, "Ctrl+Shift+S"))
        m.addAction(self._action("Save &Mask…", lambda: self.save_mask(False), None, "Save the sketch as an index PNG"))
        m.addAction(self._action("Save Mask + &Colour PNG…", lambda: self.save_mask(True), None,
                                 "Save the index PNG and a colour PNG next to it"))
        m.addSeparator()
        m.addAction(self._action("&Export Photo…", lambda: self.export("photo"), "Ctrl+E", "Export the photo"))
        m.addAction(self._action("Export S&ketch…", lambda: self.export("sketch"), "Ctrl+Shift+E",
                                 "Export the sketch in palette colours"))
        m.addAction(self._action("Export Side &by Side…", lambda: self.export("side_by_side"), "Ctrl+Alt+E",
                                 "Export the sketch and the photo side by side"))
        m.addSeparator()
        m.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        m = mb.addMenu("&Edit")
        self.undo_action = self._action("&Undo", self.undo, "Ctrl+Z")
        self.redo_action = self._action("&Redo", self.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        m.addAction(self.undo_action)
        m.addAction(self.redo_action)
        m.addSeparator()
        m.addAction(self._action("Fill Canvas with Current Class", self.fill_canvas, "Ctrl+Shift+Backspace"))
        m.addSeparator()
        m.addAction(self._action("&Preferences…", self.preferences, "Ctrl+,"))

        m = mb.addMenu("&Tools")
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        tools_bar = QToolBar("Tools")
        tools_bar.setObjectName("toolbar_tools")
        tools_bar.setIconSize(QSize(28, 28))
        tools_bar.setMovable(False)
        for tool, (label, key) in TOOL_KEYS.items():
            a = self._action(label, lambda _=False, t=tool: self.set_tool(t), key, f"{label}: {TOOL_HELP[tool]}", True)
            a.setIcon(tool_icon(tool))
            a.setObjectName(f"tool_{tool}")
            group.addAction(a)
            m.addAction(a)
            tools_bar.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions["brush"].setChecked(True)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools_bar)
        m.addSeparator()
        m.addAction(self._action("Smaller Brush", lambda: self.change_brush(-1), "[", "Smaller brush"))
        m.addAction(self._action("Bigger Brush", lambda: self.change_brush(+1), "]", "Bigger brush"))

        m = mb.addMenu("&View")
        m.addAction(self._action("Zoom &In", lambda: self.canvas.zoom_by(1.25),
                                 [QKeySequence(QKeySequence.StandardKey.ZoomIn), QKeySequence("Ctrl+=")]))
        m.addAction(self._action("Zoom &Out", lambda: self.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut))
        m.addAction(self._action("&Fit to Window", self.canvas.fit, "Ctrl+0"))
        m.addAction(self._action("&Actual Size (100%)", self.canvas.actual_size, "Ctrl+1",
                                 "One sketch pixel per screen pixel"))
        self.overlay_action = self._action("Sketch &Overlay on Photo", self.toggle_overlay, "O",
                                           "Show the sketch over the photo", True)
        m.addAction(self.overlay_action)

        m = mb.addMenu("&Style")
        self.style_photo_action = self._action("Style from &Photo…", lambda: self.pick_style_photo("a"), "Ctrl+Shift+O",
                                               "Take the style of a photo")
        self.random_style_action = self._action("&Random Style", lambda: self.random_style("a", -1), "R",
                                                "Draw a random style")
        self.clear_blend_action = self._action("&Clear Blend", self.clear_blend, None, "Forget the second style")
        for a in (self.style_photo_action, self.random_style_action, self.clear_blend_action):
            m.addAction(a)

        m = mb.addMenu("&Model")
        m.addAction(self._action("Load Model &Folder…", self.load_model_folder, "Ctrl+M",
                                 "Load a Gauguin checkpoint folder or an official SPADE checkpoint folder"))
        m.addAction(self._action("Load Model F&ile…", self.load_model_file, None,
                                 "Load an official SPADE checkpoint file (latest_net_G.pth) or a config.json"))
        m.addAction(self._action("Load &Bundled Model", lambda: self.load_model(None), None))
        m.addSeparator()
        self.model_info_action = self._action("Model &Info…", self.show_model_info, "Ctrl+I")
        m.addAction(self.model_info_action)

        m = mb.addMenu("&Help")
        m.addAction(self._action("&Keyboard Shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents))
        m.addAction(self._action("&About Gauguin", self.show_about))

        opts = QToolBar("Options")
        opts.setObjectName("toolbar_options")
        opts.setMovable(False)
        opts.addWidget(QLabel(" Brush "))
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(1, 200)
        self.brush_slider.setFixedWidth(180)
        self.brush_slider.setToolTip("Brush size in pixels ([ smaller, ] bigger)")
        self.brush_label = QLabel()
        self.brush_label.setMinimumWidth(48)
        opts.addWidget(self.brush_slider)
        opts.addWidget(self.brush_label)
        opts.addSeparator()
        for t in ("undo", "redo"):
            opts.addAction(getattr(self, f"{t}_action"))
        opts.addSeparator()
        self.overlay_check = QCheckBox("Overlay")
        self.overlay_check.setToolTip("Show the sketch over the photo (O)")
        self.overlay_opacity = QSlider(Qt.Orientation.Horizontal)
        self.overlay_opacity.setRange(0, 100)
        self.overlay_opacity.setValue(50)
        self.overlay_opacity.setFixedWidth(110)
        self.overlay_opacity.setToolTip("Opacity of the sketch over the photo")
        opts.addWidget(self.overlay_check)
        opts.addWidget(self.overlay_opacity)
        opts.addSeparator()
        self.dice_action = QAction("\u2684 Random style", self)
        self.dice_action.setToolTip(self.random_style_action.toolTip())
        self.dice_action.triggered.connect(lambda: self.random_style("a", -1))
        opts.addAction(self.dice_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, opts)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.cursor_label = QLabel()
        self.model_label = QLabel()
        self.device_label = QLabel()
        self.render_label = QLabel("render —")
        self.zoom_label = QLabel()
        self.zoom_label.setToolTip("Canvas zoom (Ctrl+0 fit, Ctrl+1 100%)")
        self.loading_label = QLabel()
        self.loading_bar = QProgressBar()
        self.loading_bar.setRange(0, 0)
        self.loading_bar.setFixedWidth(90)
        self.loading_bar.setMaximumHeight(14)
        self.loading_bar.setTextVisible(False)
        for w in (self.loading_label, self.loading_bar, self.cursor_label, self.zoom_label, self.model_label,
                  self.device_label, self.render_label):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)
        self.loading_label.setVisible(False)
        self.loading_bar.setVisible(False)

    def _connect(self) -> None:
        self.palette.class_selected.connect(self._class_selected)
        self.canvas.class_picked.connect(lambda cid: self.palette.select(cid))
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.canvas.view_changed.connect(lambda: self.zoom_label.setText(f"{self.canvas.scale * 100:.0f}%"))
        self.canvas.stroke_finished.connect(self._stroke_finished)
        self.brush_slider.valueChanged.connect(self._brush_changed)
        self.brush_slider.setValue(self.settings.brush_size)
        self._brush_changed(self.brush_slider.value())
        self.overlay_check.toggled.connect(self._overlay_changed)
        self.overlay_opacity.valueChanged.connect(lambda _: self._overlay_changed(self.overlay_check.isChecked()))
        self.style_panel.photo_requested.connect(self.pick_style_photo)
        self.style_panel.random_requested.connect(self.random_style)
        self.style_panel.preset_chosen.connect(lambda p: self.set_style_photo(p, "a"))
        self.style_panel.blend_changed.connect(self.set_blend)

    # == document ========================================================================================
    def set_document(self, doc: Document, starter: bool = False) -> None:
        """Show `doc` (replacing the current one; the caller has asked about unsaved changes).

        `starter` marks the sketch the app opens with: a model that finishes loading later may resize it.
        """
        self.doc = doc
        self._starter_doc = starter
        doc.listeners.append(self._on_doc_changed)
        doc.style_listeners.append(self._on_style_changed)
        self.canvas.set_document(doc)
        self.photo.set_sketch(self.canvas.sketch, doc.shape)
        self.photo.set_photo(None)
        canvas = doc.canvas
        brush = canvas.brush_size if doc.path else self.brush_slider.value()
        for widget, value in ((self.brush_slider, brush), (self.overlay_check, canvas.overlay),
                              (self.overlay_opacity, int(round(canvas.overlay_opacity * 100)))):
            widget.blockSignals(True)
            widget.setChecked(value) if isinstance(widget, QCheckBox) else widget.setValue(value)
            widget.blockSignals(False)
        self._brush_changed(brush)
        self._overlay_changed(canvas.overlay)
        self._autosaved_revision = -1
        self.controller.invalidate()
        self._refresh_style_panel()
        self._update_title()
        self._update_undo_actions()
        self.request_render()

    def document_name(self) -> str:
        if self.doc.path:
            return self.doc.path.name
        return f"{self.last_mask_path.stem} (mask)" if self.last_mask_path else "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"Gauguin — {self.document_name()}[*]")
        self.setWindowModified(self.doc.dirty)

    def _update_undo_actions(self) -> None:
        st = self.doc.undo_stack
        self.undo_action.setEnabled(st.can_undo)
        self.redo_action.setEnabled(st.can_redo)
        self.undo_action.setText(f"&Undo {st.undo_name.capitalize()}".rstrip())
        self.redo_action.setText(f"&Redo {st.redo_name.capitalize()}".rstrip())

    def _on_doc_changed(self, box) -> None:
        if not self.doc.in_stroke:
            self._update_undo_actions()
        self.setWindowModified(True)
        if self.settings.live_render or not self.doc.in_stroke:
            self.request_render()

    def _stroke_finished(self) -> None:
        self._update_undo_actions()
        self._update_title()
        self.request_render()

    def _on_style_changed(self) -> None:
        self._refresh_style_panel()
        self._update_title()
        self.request_render()

    def _refresh_style_panel(self) -> None:
        r = self.renderer
        self.style_panel.set_capabilities(bool(r and r.uses_style), bool(r and r.has_encoder), r.name if r else None)
        self.style_panel.show_style(self.doc.style)
        ok = bool(r and r.uses_style)
        self.random_style_action.setEnabled(ok)
        self.dice_action.setEnabled(ok)
        self.dice_action.setToolTip(self.random_style_action.toolTip() if ok else
                                    "Random style: needs a model with a style input" if r else
                                    "Random style: load a model first")
        self.style_photo_action.setEnabled(ok and r.has_encoder)

    def undo(self) -> None:
        if self.doc.in_stroke:
            return
        self.doc.undo()
        self._update_undo_actions()
        self._update_title()

    def redo(self) -> None:
        if self.doc.in_stroke:
            return
        self.doc.redo()
        self._update_undo_actions()
        self._update_title()

    def fill_canvas(self) -> None:
        self.doc.replace_labels(np.full(self.doc.shape, self.palette.current, dtype=np.uint8), "fill canvas")
        self._stroke_finished()

    # == tools ===========================================================================================
    def set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        self.tool_actions[tool].setChecked(True)
        label, key = TOOL_KEYS[tool]
        self.statusBar().showMessage(f"{label} ({key}): {TOOL_HELP[tool]}", 4000)

    def change_brush(self, direction: int) -> None:
        v = self.brush_slider.value()
        step = max(1, int(round(v * 0.15)))
        self.brush_slider.setValue(v + direction * step)

    def _brush_changed(self, v: int) -> None:
        self.canvas.brush_size = v
        self.doc_canvas_settings(brush_size=v)
        self.brush_label.setText(f"{v} px")
        self.canvas.update()

    def doc_canvas_settings(self, **kw) -> None:
        if hasattr(self, "doc"):
            for k, v in kw.items():
                setattr(self.doc.canvas, k, v)

    def _class_selected(self, cid: int) -> None:
        self.canvas.class_id = cid
        if self.canvas.tool in ("eraser", "eyedropper"):
            self.set_tool("brush")
        self.canvas.update()

    def _cursor_moved(self, x: int, y: int, cid: int) -> None:
        self.cursor_label.setText("" if cid < 0 else f"{x}, {y} · {self.doc.label_set.names[cid]}")

    def toggle_overlay(self) -> None:
        self.overlay_check.setChecked(not self.overlay_check.isChecked())

    def _overlay_changed(self, on: bool) -> None:
        opacity = self.overlay_opacity.value() / 100.0
        self.overlay_action.setChecked(on)
        self.photo.set_overlay(on, opacity)
        self.doc_canvas_settings(overlay=on, overlay_opacity=opacity)

    # == rendering =======================================================================================
    def request_render(self) -> None:
        if self.renderer is not None:
            self.controller.request()

    def _make_job(self, generation: int) -> RenderJob | None:
        if self.renderer is None:
            return None
        return RenderJob(self.doc.revision, generation, self.doc.labels.copy(), self.doc.style, self.renderer,
                         dict(self.doc.latents))

    def _on_result(self, result: RenderResult) -> None:
        if result.labels_shape != self.doc.shape:
            return
        self.doc.latents.update(result.latents)
        self.photo.set_message("")
        self.photo.set_photo(result.image)
        self.last_render_ms = result.ms
        self.render_label.setText(f"render {result.ms:.0f} ms")

    def _on_render_failed(self, message: str) -> None:
        self.photo.set_message(f"The model could not render: {message}. Your sketch is safe.")
        self.statusBar().showMessage(f"Render failed: {message}", 8000)

    # == models ==========================================================================================
    def set_renderer(self, renderer: SpadeRenderer | None, ref: str = "") -> None:
        self.renderer = renderer
        self.model_ref = ref
        self.controller.invalidate()
        if renderer is None:
            self.palette.set_trained(None)
            self.photo.set_photo(None)
            self.photo.set_message(EMPTY_STATE)
            self.model_label.setText("no model")
            self.device_label.setText("")
            self.model_info_action.setEnabled(False)
        else:
            self.palette.set_trained(renderer.trained_classes)
            self.photo.set_message("")
            self.model_label.setText(f"model: {renderer.name}")
            self.model_label.setToolTip(f"{renderer.name}: renders {renderer.size_rule}"
                                        + ("" if renderer.has_encoder else "; no style encoder"))
            self.device_label.setText(f"device: {renderer.device}")
            self.model_info_action.setEnabled(True)
        if hasattr(self, "doc"):
            self._refresh_style_panel()
            self.request_render()

    def load_model(self, path: str | None, startup: bool = False) -> LoadRequest:
        """Start loading a model (None: the bundled one) on the loader thread; painting goes on meanwhile.

        The current model keeps rendering until the new one is ready; a failure keeps it and says why.
        """
        return self.loader.request(path, self.settings.device, startup)

    def _on_loading_changed(self, busy: bool) -> None:
        req = self.loader.pending
        if busy and req is not None:
            self.loading_label.setText(f"Loading {Path(req.path).name if req.path else 'the bundled model'}…")
        self.loading_label.setVisible(busy)
        self.loading_bar.setVisible(busy)

    def _on_model_loaded(self, req: LoadRequest, renderer: SpadeRenderer) -> None:
        ref = str(Path(req.path).expanduser().resolve()) if req.path else str(DEFAULT_MODEL_DIR.resolve())
        self.set_renderer(renderer, ref)
        if not req.startup:
            self.settings.model_path = ref if req.path else ""
            if req.path:
                self.settings.set_folder("model", req.path)
        if self._starter_doc and not self.doc.dirty and self.doc.shape != renderer.default_size:
            self.set_document(Document(default_labels(*renderer.default_size)), starter=True)
        self.statusBar().showMessage(f"Loaded model {renderer.name} on {renderer.device}", 5000)

    def _on_model_failed(self, req: LoadRequest, message: str) -> None:
        """At startup a missing bundled model is the empty state, and a remembered model that went away falls
        back to the bundled one; everything else is a message, and the current model stays."""
        if req.startup and req.path is None:
            return
        if req.startup and req.path == self.settings.model_path:
            self.statusBar().showMessage(f"The last model could not be loaded ({message}); "
                                         "loading the bundled model", 10000)
            self.load_model(None, startup=True)
            return
        prompts.show_error(self, f"Cannot load the model: {message}")

    def load_model_folder(self) -> None:
        path = prompts.ask_folder(self, "Load model folder", self.settings.folder("model"))
        if path:
            self.load_model(path)

    def load_model_file(self) -> None:
        path = prompts.ask_open_path(self, "Load model file", self.settings.folder("model"),
                                     "Checkpoints (*.pth *.pt *.safetensors *.json);;All files (*)")
        if path:
            self.load_model(path)

    def show_model_info(self) -> None:
        if self.renderer is not None:
            prompts.show_info(self, model_info_html(self.renderer.info(), self.renderer.label_set), "Model")

    # == style ===========================================================================================
    def pick_style_photo(self, slot: str = "a") -> None:
        path = prompts.ask_open_path(self, "Style from photo", self.settings.folder("style"), IMAGE_FILTER)
        if path:
            self.settings.set_folder("style", path)
            self.set_style_photo(path, slot)

    def set_style_photo(self, path: str | Path, slot: str = "a") -> bool:
        """Use the style of the photo at `path` (slot 'b': the blend partner)."""
        r = self.renderer
        if r is None or not r.has_encoder:
            prompts.show_error(self, "The loaded model has no style encoder, so it cannot take a photo's style."
                               if r else "Load a model first: the style comes from the model's encoder.")
            return False
        try:
            image = read_style_image(path)
        except GauguinError as e:
            prompts.show_error(self, str(e))
            return False
        source = StyleSource.from_image(image, Path(path).stem)
        self._set_source(slot, source)
        return True

    def random_style(self, slot: str = "a", seed: int = -1) -> None:
        if self.renderer is None or not self.renderer.uses_style:
            return
        seed = random.randrange(2**31) if seed < 0 else int(seed)
        self._set_source(slot, StyleSource("seed", seed))

    def _set_source(self, slot: str, source: StyleSource) -> None:
        style = self.doc.style
        if slot == "b":
            self.doc.set_style(replace(style, b=source, t=style.t if style.b is not None else 0.5))
        else:
            self.doc.set_style(replace(style, a=source))

    def set_blend(self, t: float) -> None:
        if self.doc.style.b is not None:
            self.doc.set_style(replace(self.doc.style, t=float(t)))

    def clear_blend(self) -> None:
        self.doc.set_style(replace(self.doc.style, b=None, t=0.0))

    # == drag and drop ===================================================================================
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls() and any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        files = [Path(u.toLocalFile()) for u in e.mimeData().urls() if u.isLocalFile()]
        if files:
            e.acceptProposedAction()
            self.handle_dropped_file(files[0])

    def handle_dropped_file(self, path: Path) -> None:
        """A document opens; a mask (index or palette image) opens as a sketch; any other image is a style."""
        if path.suffix.lower() == SUFFIX:
            self.open_path(path)
            return
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            prompts.show_error(self, f"{path.name}: drop a photo (for its style), a mask or a {SUFFIX} document.")
            return
        if self._looks_like_mask(path):
            self.open_path(path)
        else:
            self.set_style_photo(path, "a")

    def _looks_like_mask(self, path: Path) -> bool:
        if not path.is_file():
            return True  # not a regular file (a folder, a pipe): open_path says so
        try:
            with Image.open(path) as img:
                if img.mode in ("L", "P", "I", "I;16"):
                    return True
                if img.width * img.height > 4096 * 4096:
                    return False
                img.load()
                labels_from_image(img, self.doc.label_set)
                return True
        except (GauguinError, OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            return False

    # == files ===========================================================================================
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to drop the current document."""
        if not self.doc.dirty:
            return True
        answer = prompts.ask_save_changes(self, self.document_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_canvas(self) -> None:
        if not self.maybe_save():
            return
        r = self.renderer
        sizes = r.supported_sizes() if r else [(256, 256), (512, 512), (256, 512), (512, 1024)]
        dialog = NewCanvasDialog(sizes, r.size_rule if r else "", self.doc.label_set, self)
        if dialog.exec():
            (h, w), fill = dialog.choice()
            self.last_mask_path = None
            self.set_document(Document.blank(h, w, fill))

    def open_dialog(self) -> None:
        path = prompts.ask_open_path(self, "Open", self.settings.folder("open"), OPEN_FILTER)
        if path:
            self.settings.set_folder("open", path)
            self.open_path(path)

    def open_path(self, path: str | Path, ask: bool = True) -> bool:
        """Open a .gauguin document or a mask (index PNG or palette RGB). Errors become one-line messages."""
        path = Path(path)
        if ask and not self.maybe_save():
            return False
        try:
            if path.suffix.lower() == SUFFIX:
                doc, _ = read_document(path)
            else:
                labels = read_mask(path)
                check_canvas_size(*labels.shape, f"the mask {path.name}")
                doc = Document(labels)
        except GauguinError as e:
            prompts.show_error(self, str(e))
            if not path.exists():
                self.settings.remove_recent(path)
                self._fill_recent_menu()
            return False
        if doc.path is not None:
            self.settings.add_recent(doc.path)
            self._fill_recent_menu()
        self.last_mask_path = None if doc.path is not None else path
        self.set_document(doc)
        note = self._document_model_note(doc) if doc.path is not None else ""
        self.statusBar().showMessage(f"Opened {path.name}" + (f" — {note}" if note else ""), 15000 if note else 4000)
        return True

    def _is_current_model(self, ref: str) -> bool:
        """Whether `ref` (a document's model) is the loaded model or the one being loaded."""
        pending = self.loader.pending
        for current in (self.model_ref, (pending.path or str(DEFAULT_MODEL_DIR)) if pending else ""):
            if current and _same_path(current, ref):
                return True
        return self.renderer is not None and ref == self.renderer.name and not Path(ref).exists()

    def _document_model_note(self, doc: Document) -> str:
        """A document renders the same photo only with the model it was made with: offer to load that model
        when it is elsewhere on disk, else say that the photo comes from another model."""
        ref = doc.model_ref
        if not ref or self._is_current_model(ref):
            return ""
        name = Path(ref).name or ref
        current = f"the model {self.renderer.name}" if self.renderer else "no model loaded"
        if Path(ref).exists():
            loaded = f"the loaded model is {self.renderer.name}" if self.renderer else "no model is loaded"
            if prompts.ask_yes_no(self, f"{doc.path.name} was made with the model “{name}” ({ref}); {loaded}. "
                                        f"Load “{name}” to get the same photo?", "Different model"):
                self.load_model(ref)
                return f"loading its model {name}"
            return f"made with the model {name}; rendering with {current}"
        return f"made with the model {name}, which is not found ({ref}); rendering with {current}"

    def open_example(self, path: Path) -> None:
        self.open_path(path)

    def save(self) -> bool:
        if self.doc.path is None or self.doc.path.suffix.lower() != SUFFIX:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        stem = self.doc.path.stem if self.doc.path else (self.last_mask_path.stem if self.last_mask_path else "Untitled")
        suggested = str(Path(self.settings.folder("save")) / (stem + SUFFIX))
        path = prompts.ask_save_path(self, "Save document", suggested, f"Gauguin documents (*{SUFFIX})")
        if not path:
            return False
        path = self._with_suffix(path, {SUFFIX}, SUFFIX)
        if path is None:
            return False
        self.settings.set_folder("save", path)
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        self.doc.model_ref = self.model_ref or self.doc.model_ref
        try:
            write_document(path, self.doc)
        except (DocumentError, OSError, ValueError) as e:
            prompts.show_error(self, str(e))
            return False
        self.doc.path = path
        self.doc.mark_saved()
        self.settings.add_recent(path)
        self._fill_recent_menu()
        if self.recovery is not None:
            self.recovery.discard()
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def save_mask(self, with_color: bool) -> bool:
        stem = self.last_mask_path.stem if self.last_mask_path else Path(self.document_name()).stem.split(" ")[0]
        suggested = str(Path(self.settings.folder("mask")) / f"{stem}.png")
        path = prompts.ask_save_path(self, "Save mask (index PNG)", suggested, "Index PNG (*.png)")
        path = self._with_suffix(path, {".png"}, ".png") if path else None
        if path is None:
            return False
        try:
            write_index_png(path, self.doc.labels)
            if with_color:
                write_color_png(path.with_name(f"{path.stem}_color.png"), self.doc.labels, self.doc.label_set)
        except (GauguinError, OSError, ValueError) as e:
            prompts.show_error(self, f"Cannot save the mask: {e}")
            return False
        self.settings.set_folder("mask", path)
        self.last_mask_path = path
        self.statusBar().showMessage(f"Saved mask {path.name}", 4000)
        return True

    def export(self, kind: str) -> bool:
        """Export the photo, the sketch or both side by side as PNG or JPEG."""
        if kind != "sketch" and self.photo.photo_array is None:
            prompts.show_error(self, "There is no photo to export yet." + ("" if self.renderer else " Load a model first."))
            return False
        stem = self.doc.path.stem if self.doc.path else (self.last_mask_path.stem if self.last_mask_path else "Untitled")
        suffix = {"photo": "", "sketch": "_sketch", "side_by_side": "_side_by_side"}[kind]
        suggested = str(Path(self.settings.folder("export")) / f"{stem}{suffix}.png")
        path = prompts.ask_save_path(self, "Export", suggested, "PNG (*.png);;JPEG (*.jpg *.jpeg)")
        path = self._with_suffix(path, {".png", ".jpg", ".jpeg"}, ".png") if path else None
        if path is None:
            return False
        try:
            write_export(path, kind, self.doc.labels, self.doc.label_set, self.photo.photo_array)
        except (OSError, ValueError) as e:
            prompts.show_error(self, f"Cannot export: {e}")
            return False
        self.settings.set_folder("export", path)
        self.statusBar().showMessage(f"Exported {path.name}", 4000)
        return True

    def _with_suffix(self, path: str, allowed: set[str], default: str) -> Path | None:
        """Add the default extension when there is none; ask before overwriting a file the dialog did not see."""
        p = Path(path)
        if p.suffix.lower() in allowed:
            return p
        p = p.with_name(p.name + default)
        if p.exists() and not prompts.ask_yes_no(self, f"{p.name} already exists. Replace it?"):
            return None
        return p

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files
        for f in files:
            a = self.recent_menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.triggered.connect(lambda _=False, p=f: self.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    def _fill_examples_menu(self) -> None:
        examples = sorted(EXAMPLES_DIR.glob("*.png")) if EXAMPLES_DIR.is_dir() else []
        for p in examples:
            a = self.examples_menu.addAction(p.stem.replace("_", " ").replace("-", " ").capitalize())
            a.triggered.connect(lambda _=False, path=p: self.open_example(path))
        self.examples_menu.setEnabled(bool(examples))

    # == recovery, preferences, closing ===============================================================
    def autosave(self) -> bool:
        """Write the recovery file when there are changes it does not hold yet (not mid-stroke)."""
        if self.recovery is None or self.doc.in_stroke or not self.doc.dirty:
            return False
        if self._autosaved_revision == self.doc.revision:
            return False
        try:
            self.recovery.save(self.doc)
        except (DocumentError, OSError) as e:
            self.statusBar().showMessage(f"Autosave failed: {e}", 8000)
            return False
        self._autosaved_revision = self.doc.revision
        return True

    def check_recovery(self) -> bool:
        """After a crash, offer the work crashed sessions autosaved, newest first, until one is taken (the
        rest wait for the next start). True when something was recovered."""
        if self.recovery is None:
            return False
        orphans, problems = self.recovery.recoverable()
        for text in problems:
            prompts.show_error(self, text)
        for orphan in orphans:  # newest first; one not asked about yet stays for the next start
            if prompts.ask_yes_no(self, f"Gauguin did not close properly. Recover the unsaved work in "
                                        f"{orphan.describe()}?", "Recover work"):
                self.set_document(orphan.doc)
                self.autosave()
                RecoveryStore.forget(orphan)
                return True
            RecoveryStore.forget(orphan)
        return False

    def preferences(self) -> None:
        s = self.settings
        dialog = PreferencesDialog(s.device, s.autosave_seconds, s.live_render, self)
        if not dialog.exec():
            return
        device, autosave, live = dialog.values()
        s.autosave_seconds = autosave
        s.live_render = live
        self.autosave_timer.start(s.autosave_seconds * 1000)
        if device != s.device:
            s.device = device
            if self.renderer is not None:
                bundled = self.model_ref in ("", str(DEFAULT_MODEL_DIR.resolve()))
                self.load_model(None if bundled else self.model_ref)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{label}: {TOOL_HELP[t]}</td></tr>"
                       for t, (label, key) in TOOL_KEYS.items())
        more = [("[ / ]", "smaller / bigger brush"), ("Space + drag, middle drag", "pan"), ("Wheel", "zoom"),
                ("Ctrl+0 / Ctrl+1", "fit to window / 100%"),
                ("Ctrl+Shift+Backspace", "fill the canvas with the current class"), ("O", "sketch overlay on the photo"), ("R", "random style"),
                ("Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"), ("Ctrl+S / Ctrl+O", "save / open"),
                ("Ctrl+E", "export the photo"), ("Esc", "cancel the line or polygon")]
        rows += "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in more)
        prompts.show_info(self, f"<table>{rows}</table>", "Keyboard shortcuts")

    def show_about(self) -> None:
        prompts.show_info(self, "<b>Gauguin</b><br>Paint a semantic sketch, get a photo.<br>"
                                "SPADE: Park et al., Semantic Image Synthesis with Spatially-Adaptive "
                                "Normalization, CVPR 2019.", "About Gauguin")

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_save():
            e.ignore()
            return
        self.settings.brush_size = self.brush_slider.value()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.autosave_timer.stop()
        self.loader.shutdown()
        self.controller.shutdown()
        if self.recovery is not None:
            self.recovery.discard()
        e.accept()
