"""The window's bars and view modes: the tools and options toolbars, the docks, the status bar fields and the
full-window photo."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QDockWidget, QLabel, QMainWindow, QProgressBar, QSlider, QToolBar, QWidget

from spade import SpadeRenderer

from .actions import ActionSet
from .icons import tool_icon


class ToolsBar(QToolBar):
    """The painting tools, with their icons, on the left."""

    def __init__(self, actions: ActionSet, tools: list[str]):
        super().__init__("Tools")
        self.setObjectName("toolbar_tools")
        self.setIconSize(QSize(28, 28))
        self.setMovable(False)
        for tool in tools:
            actions[f"tool_{tool}"].setIcon(tool_icon(tool))
        actions.fill_toolbar(self, "tools")


def add_docks(window: QMainWindow, panels: list[tuple[str, str, QWidget, Qt.DockWidgetArea]]) -> dict[str, QDockWidget]:
    """Dock each (name, title, widget, area); the docks move and float but do not close (History does)."""
    docks = {}
    for name, title, widget, area in panels:
        dock = docks[name] = QDockWidget(title, window)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        dock.setFeatures(features | (QDockWidget.DockWidgetFeature.DockWidgetClosable if name == "history"
                                     else QDockWidget.DockWidgetFeature.NoDockWidgetFeatures))
        window.addDockWidget(area, dock)
    return docks


class PhotoFullWindow:
    """The photo over the whole window: everything else hides, and comes back as it was."""

    def __init__(self, window: QMainWindow, action: QAction, parts: list[QWidget]):
        self.window, self.action, self.parts = window, action, parts
        self._state = None

    @property
    def active(self) -> bool:
        return self.window.canvas.isHidden()

    def toggle(self, toggle: bool = True) -> None:
        """Enter or leave the full-window photo (toggle=False only leaves: Escape)."""
        self.set_active(toggle and not self.active)

    def set_active(self, on: bool) -> None:
        if on != self.active:
            if on:
                self._state = self.window.saveState()
            for part in [self.window.canvas, self.window.menuBar(), self.window.statusBar()] + self.parts:
                part.setVisible(not on)
            if not on:
                self.window.restoreState(self._state)
            (self.window.photo if on else self.window.canvas).setFocus()
        self.action.setChecked(on)


class OptionsBar(QToolBar):
    """Brush size, undo/redo, the sketch overlay and the dice, over the canvas."""

    def __init__(self, actions: ActionSet):
        super().__init__("Options")
        self.setObjectName("toolbar_options")
        self.setMovable(False)
        self.addWidget(QLabel(" Brush "))
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(1, 200)
        self.brush_slider.setFixedWidth(180)
        self.brush_slider.setToolTip("Brush size in pixels ([ smaller, ] bigger)")
        self.brush_label = QLabel()
        self.brush_label.setMinimumWidth(48)
        self.addWidget(self.brush_slider)
        self.addWidget(self.brush_label)
        self.addSeparator()
        actions.fill_toolbar(self, "options")
        self.addSeparator()
        self.overlay_check = QCheckBox("Overlay")
        self.overlay_check.setToolTip("Show the sketch over the photo (O)")
        self.overlay_opacity = QSlider(Qt.Orientation.Horizontal)
        self.overlay_opacity.setRange(0, 100)
        self.overlay_opacity.setValue(50)
        self.overlay_opacity.setFixedWidth(110)
        self.overlay_opacity.setToolTip("Opacity of the sketch over the photo")
        self.addWidget(self.overlay_check)
        self.addWidget(self.overlay_opacity)

    def change_brush(self, direction: int) -> None:
        """A bigger (+1) or smaller (-1) brush, in steps of about 15%."""
        v = self.brush_slider.value()
        self.brush_slider.setValue(v + direction * max(1, int(round(v * 0.15))))

    def show_settings(self, brush: int, overlay: bool, opacity: float) -> None:
        """Show a document's canvas settings without emitting change signals."""
        for widget, set_value in ((self.brush_slider, lambda: self.brush_slider.setValue(brush)),
                                  (self.overlay_check, lambda: self.overlay_check.setChecked(overlay)),
                                  (self.overlay_opacity, lambda: self.overlay_opacity.setValue(round(opacity * 100)))):
            widget.blockSignals(True)
            set_value()
            widget.blockSignals(False)


class StatusFields:
    """The permanent fields of the status bar: loading, cursor, zoom, model, device, last render time."""

    def __init__(self, window: QMainWindow):
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
            window.statusBar().addPermanentWidget(w)
        self.set_loading(None)

    def set_loading(self, what: str | None) -> None:
        """`what` is being loaded (None: nothing is)."""
        if what is not None:
            self.loading_label.setText(f"Loading {what}…")
        self.loading_label.setVisible(what is not None)
        self.loading_bar.setVisible(what is not None)

    def set_model(self, renderer: SpadeRenderer | None) -> None:
        if renderer is None:
            self.model_label.setText("no model")
            self.device_label.setText("")
            return
        self.model_label.setText(f"model: {renderer.name}")
        self.model_label.setToolTip(f"{renderer.name}: renders {renderer.size_rule}"
                                    + ("" if renderer.has_encoder else "; no style encoder"))
        self.device_label.setText(f"device: {renderer.device}")
