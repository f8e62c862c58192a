"""The window's bars: the options toolbar (brush size, undo/redo, overlay, dice) and the status bar fields."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QMainWindow, QProgressBar, QSlider, QToolBar

from spade import SpadeRenderer

from .actions import ActionSet


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
