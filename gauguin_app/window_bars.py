"""The window's bars and view modes: the tools and options toolbars, the docks, the status bar fields and the
full-window photo."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QDockWidget, QLabel, QMainWindow, QProgressBar, QSlider, QToolBar, QWidget

from spade import SpadeRenderer

from .actions import ActionSet
from .docfile import BRUSH_RANGE
from .icons import tool_icon

# Brush sizes `[` and `]` step through: a quarter octave apart (about 19%), whole pixels.
BRUSH_LADDER = sorted({max(1, round(2 ** (k / 4))) for k in range(4 * 8)})


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


class DockWidths(QObject):
    """Gives the side docks back the width a shrinking window took from them when it grows again (the main
    window hands all new room to the central widget otherwise, so panels stay narrow). A width the user sets by
    dragging a dock's edge becomes the one to give back."""

    def __init__(self, window: QMainWindow, docks: list[QDockWidget]):
        super().__init__(window)
        self.window, self.docks = window, docks
        self.wanted: dict[QDockWidget, int] = {}
        self._window_width = -1
        for dock in docks:
            dock.installEventFilter(self)

    def remember(self) -> None:
        """The present widths are the wanted ones (after the window first shows, or restores its state)."""
        self._window_width = self.window.width()
        self.wanted = {d: d.width() for d in self.docks if d.isVisible() and not d.isFloating()}

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if (event.type() == QEvent.Type.Resize and obj in self.wanted and self.window.width() == self._window_width
                and not self.window.isMinimized()):
            self.wanted[obj] = obj.width()   # the window kept its width: the user moved the dock's edge
        return False

    def window_resized(self) -> None:
        grew = self.window.width() > self._window_width >= 0
        self._window_width = self.window.width()
        if grew:
            QTimer.singleShot(0, self._give_back)

    def _give_back(self) -> None:
        short = [d for d, w in self.wanted.items() if d.isVisible() and not d.isFloating() and d.width() < w]
        if short:
            self.window.resizeDocks(short, [self.wanted[d] for d in short], Qt.Orientation.Horizontal)
        self._window_width = self.window.width()


class PhotoFullWindow:
    """The photo over the whole window: everything else hides, and comes back as it was. A hint says for a
    moment how to come back."""

    HINT, HINT_MS = "F or Esc to return", 2500

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
            self.window.photo.show_hint(self.HINT if on else "", self.HINT_MS)
        self.action.setChecked(on)


class OptionsBar(QToolBar):
    """Brush size, undo/redo, the sketch overlay and the dice, over the canvas."""

    def __init__(self, actions: ActionSet):
        super().__init__("Options")
        self.setObjectName("toolbar_options")
        self.setMovable(False)
        self.addWidget(QLabel(" Brush "))
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(*BRUSH_RANGE)
        self.brush_slider.setFixedWidth(180)
        self.brush_slider.setToolTip("Brush diameter in canvas pixels ([ smaller, ] bigger)")
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
        """The next bigger (+1) or smaller (-1) size of BRUSH_LADDER: even steps, and ] then [ comes back."""
        v = self.brush_slider.value()
        sizes = [r for r in BRUSH_LADDER if (r > v if direction > 0 else r < v)]
        if sizes:
            self.brush_slider.setValue(sizes[0] if direction > 0 else sizes[-1])

    def show_settings(self, canvas: tuple[int, int], brush: int, overlay: bool, opacity: float) -> None:
        """Show a document's canvas settings without emitting change signals. The brush slider spans 1 px to
        the canvas's longer side (at least 64 px, at most what a document keeps), so it is as fine on a small
        canvas as on a large one."""
        top = min(BRUSH_RANGE[1], max(64, *canvas))
        for widget, set_value in ((self.brush_slider, lambda: (self.brush_slider.setMaximum(top),
                                                               self.brush_slider.setValue(brush))),
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
