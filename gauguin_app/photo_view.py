"""The live photo: the latest render scaled to the canvas aspect, optionally under the sketch."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from .canvas import SketchView


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    """An independent QImage copy of an (H, W, 3) uint8 array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PhotoView(QWidget):
    """Shows the photo, a busy hint while the model works, or a message when there is nothing to show."""

    full_requested = Signal(bool)  # double-click toggles the full-window view (True), Escape leaves it (False)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(180, 180)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.photo: QImage | None = None
        self.photo_array: np.ndarray | None = None
        self.sketch: SketchView | None = None
        self.canvas_size: tuple[int, int] = (256, 256)
        self.overlay = False
        self.overlay_opacity = 0.5
        self.message = ""
        self.busy = False
        self.stale = False
        self.hint = ""
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.timeout.connect(lambda: self.show_hint(""))

    def show_hint(self, text: str, ms: int = 0) -> None:
        """A line over the bottom of the photo (the way back from the full-window view) for `ms` (0: until
        replaced or cleared)."""
        self.hint = text
        self._hint_timer.stop()
        if text and ms:
            self._hint_timer.start(ms)
        self.update()

    def set_photo(self, rgb: np.ndarray | None) -> None:
        self.photo_array = rgb
        self.photo = None if rgb is None else qimage_from_rgb(rgb)
        self.update()

    def set_sketch(self, sketch: SketchView | None, canvas_size: tuple[int, int]) -> None:
        self.sketch = sketch
        self.canvas_size = canvas_size
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self.update()

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.update()

    def set_overlay(self, on: bool, opacity: float | None = None) -> None:
        self.overlay = on
        if opacity is not None:
            self.overlay_opacity = float(opacity)
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.full_requested.emit(True)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.full_requested.emit(False)
        else:
            super().keyPressEvent(event)

    def target_rect(self) -> QRectF:
        h, w = self.canvas_size
        margin = 12
        s = max(min((self.width() - 2 * margin) / w, (self.height() - 2 * margin) / h), 0.01)
        return QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(32, 35, 41))
        target = self.target_rect()
        if self.photo is None:
            p.setPen(QPen(QColor(80, 86, 96), 1, Qt.PenStyle.DashLine))
            p.drawRect(target.adjusted(0, 0, -1, -1))
            p.setPen(QColor(170, 176, 186))
            f = QFont(self.font())
            f.setPointSizeF(f.pointSizeF() * 1.1)
            p.setFont(f)
            text = self.message or ("Rendering…" if self.busy else "")
            p.drawText(target.adjusted(24, 24, -24, -24), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            self._paint_hint(p)
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(target, self.photo, QRectF(self.photo.rect()))
        if self.overlay and self.sketch is not None:
            p.setOpacity(self.overlay_opacity)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(target, self.sketch.image, QRectF(self.sketch.image.rect()))
            p.setOpacity(1.0)
        if self.message:
            self._banner(p, target, self.message, QColor(150, 40, 40, 220))
        elif self.busy:
            self._banner(p, target, "rendering…", QColor(20, 20, 20, 170))
        self._paint_hint(p)

    def _paint_hint(self, p: QPainter) -> None:
        if not self.hint:
            return
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.2)
        p.setFont(f)
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(self.hint) + 32, fm.height() + 16
        r = QRectF((self.width() - w) / 2, self.height() - h - 24, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 20, 200))
        p.drawRoundedRect(r, 8, 8)
        p.setPen(QColor(240, 240, 240))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.hint)

    def _banner(self, p: QPainter, target: QRectF, text: str, bg: QColor) -> None:
        fm = p.fontMetrics()
        w = min(fm.horizontalAdvance(text) + 16, int(target.width()))
        r = QRectF(target.right() - w - 6, target.top() + 6, w, fm.height() + 8)
        p.fillRect(r, bg)
        p.setPen(QColor(235, 235, 235))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, w - 8))
