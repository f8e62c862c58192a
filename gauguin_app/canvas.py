"""The sketch canvas: shows the label map in palette colours (pixel-exact), zooms, pans and turns mouse
gestures into painting operations on the Document."""
from __future__ import annotations

import math
from contextlib import ExitStack

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from .display_colours import display_colours
from .document import Box, Document
from .painting import constrain_square, flood_fill, polygon_fill, shape_fill, stroke_segment

TOOLS = ("brush", "eraser", "fill", "line", "polygon", "rectangle", "ellipse", "eyedropper")
SHAPES = ("rectangle", "ellipse")
MIN_SCALE, MAX_SCALE = 0.05, 64.0


def color_lut(colors: np.ndarray) -> np.ndarray:
    """Class colours as 0xFFRRGGBB words, for QImage.Format_RGB32."""
    c = colors.astype(np.uint32)
    lut = np.full(max(256, len(c)), 0xFF000000, dtype=np.uint32)
    lut[:len(c)] = 0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]
    return lut


class SketchView:
    """A label map's display buffer: an RGB32 QImage kept in sync box by box, shared by the views, in the
    display colours (display_colours.py) or, `official`, the label set's own."""

    def __init__(self, doc: Document, official: bool = False):
        self.doc = doc
        self.official = official
        self._lut_for = doc.label_set
        self.lut = color_lut(display_colours(doc.label_set, official))
        self.buffer = self.lut[doc.labels]
        h, w = self.buffer.shape
        self.image = QImage(self.buffer.data, w, h, 4 * w, QImage.Format.Format_RGB32)

    def set_official(self, official: bool) -> None:
        self.official = official
        self._lut_for = None
        self.update(None)

    def update(self, box: Box | None) -> None:
        if self._lut_for is not self.doc.label_set:   # the colours follow the document's label set
            self._lut_for = self.doc.label_set
            self.lut = color_lut(display_colours(self.doc.label_set, self.official))
            box = None
        if box is None:
            self.buffer[...] = self.lut[self.doc.labels]
        else:
            y0, y1, x0, x1 = box
            self.buffer[y0:y1, x0:x1] = self.lut[self.doc.labels[y0:y1, x0:x1]]


class SketchCanvas(QWidget):
    """Paint with the current tool and class; wheel zooms at the cursor, middle drag or Space+drag pans."""

    class_picked = Signal(int)        # eyedropper
    cursor_moved = Signal(int, int, int)  # x, y, class id (-1 when outside)
    stroke_finished = Signal()
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(180, 180)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.doc: Document | None = None
        self.sketch: SketchView | None = None
        self.official = False  # draw the label set's own colours instead of the display palette
        self.tool = "brush"
        self.class_id = 3
        self.brush_size = 24
        self.scale = 1.0
        self.offset = QPointF(0, 0)
        self.fit_mode = True
        self._last: tuple[float, float] | None = None
        self._mouse: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self._line_start: tuple[float, float] | None = None
        self._shape: tuple[tuple[float, float], tuple[float, float]] | None = None  # corners being dragged
        self._poly: list[tuple[float, float]] = []
        self._lasso_drag = False
        self._drag = ExitStack()  # the brush stroke being dragged (one undo step from press to release)

    # -- document --------------------------------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        if self.doc is not None and self._on_doc_changed in self.doc.listeners:
            self.doc.listeners.remove(self._on_doc_changed)
        self._drag.close()
        self.doc = doc
        self.sketch = SketchView(doc, self.official)
        doc.listeners.append(self._on_doc_changed)
        self._poly.clear()
        self._line_start = None
        self.fit()

    def set_official_colours(self, official: bool) -> None:
        self.official = official
        if self.sketch is not None:
            self.sketch.set_official(official)
        self.update()

    def _on_doc_changed(self, box: Box | None) -> None:
        if self.sketch is None:
            return
        self.sketch.update(box)
        self._report_cursor()
        if box is None:
            self.update()
        else:
            y0, y1, x0, x1 = box
            r = self.image_rect_to_widget(QRectF(x0, y0, x1 - x0, y1 - y0)).adjusted(-2, -2, 2, 2)
            self.update(r.toAlignedRect())

    def _report_cursor(self) -> None:
        """Say which pixel and class are under the mouse (after a move, an edit or a zoom alike)."""
        if self._mouse is None or self.doc is None:
            return
        x, y = self.to_image(self._mouse)
        ix, iy = round(x), round(y)
        self.cursor_moved.emit(ix, iy, int(self.doc.labels[iy, ix]) if self._inside(x, y) else -1)

    # -- view transform -------------------------------------------------------------------------------
    def image_rect_to_widget(self, r: QRectF) -> QRectF:
        return QRectF(self.offset.x() + r.x() * self.scale, self.offset.y() + r.y() * self.scale,
                      r.width() * self.scale, r.height() * self.scale)

    def to_image(self, p: QPointF) -> tuple[float, float]:
        """Widget point -> fractional pixel index (x, y)."""
        return ((p.x() - self.offset.x()) / self.scale - 0.5, (p.y() - self.offset.y()) / self.scale - 0.5)

    def fit(self) -> None:
        """Scale the whole sketch into the widget (the default; follows window resizes)."""
        self.fit_mode = True
        self._apply_fit()
        self.update()
        self.view_changed.emit()
        self._report_cursor()

    def _apply_fit(self) -> None:
        if self.doc is None:
            return
        h, w = self.doc.shape
        margin = 12
        s = min((self.width() - 2 * margin) / w, (self.height() - 2 * margin) / h)
        self.scale = max(min(s, MAX_SCALE), MIN_SCALE)
        self.offset = QPointF((self.width() - w * self.scale) / 2, (self.height() - h * self.scale) / 2)

    def actual_size(self) -> None:
        """One sketch pixel per screen pixel, keeping the pixel at the widget's centre in place."""
        self.zoom_by(1.0 / self.scale)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        new = max(min(self.scale * factor, MAX_SCALE), MIN_SCALE)
        f = new / self.scale
        self.offset = anchor - (anchor - self.offset) * f
        self.scale = new
        self.fit_mode = False
        self.update()
        self.view_changed.emit()
        self._report_cursor()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.fit_mode:
            self._apply_fit()
            self.view_changed.emit()
        super().resizeEvent(event)

    # -- painting the widget ----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(32, 35, 41))
        if self.sketch is None:
            return
        h, w = self.doc.shape
        target = self.image_rect_to_widget(QRectF(0, 0, w, h))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(target, self.sketch.image, QRectF(0, 0, w, h))
        p.setPen(QPen(QColor(80, 86, 96), 1))
        p.drawRect(target.adjusted(-1, -1, 0, 0))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_overlay(p)

    def _paint_overlay(self, p: QPainter) -> None:
        word = int(self.sketch.lut[self._value()])
        color = QColor((word >> 16) & 255, (word >> 8) & 255, word & 255)
        outline = QPen(QColor(255, 255, 255, 220), 1.5)
        shadow = QPen(QColor(0, 0, 0, 160), 3)

        def centre(pt: tuple[float, float]) -> QPointF:
            return QPointF(self.offset.x() + (pt[0] + 0.5) * self.scale, self.offset.y() + (pt[1] + 0.5) * self.scale)

        if self.tool == "line" and self._line_start is not None and self._mouse is not None:
            pen = QPen(color, max(self.brush_size * self.scale, 1.0), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(centre(self._line_start), self._mouse)
        if self.tool == "polygon" and self._poly:
            path = QPainterPath(centre(self._poly[0]))
            for pt in self._poly[1:]:
                path.lineTo(centre(pt))
            if self._mouse is not None and not self._lasso_drag:
                path.lineTo(self._mouse)
            fill = QColor(color)
            fill.setAlpha(110)
            p.setPen(shadow)
            p.drawPath(path)
            p.setPen(outline)
            p.fillPath(path, fill)
            p.drawPath(path)
            p.drawEllipse(centre(self._poly[0]), 4, 4)
        if self.tool in SHAPES and self._shape is not None:
            (ax, ay), (bx, by) = self._shape
            a, b = centre((min(ax, bx), min(ay, by))), centre((max(ax, bx), max(ay, by)))
            half = QPointF(self.scale / 2, self.scale / 2)
            rect = QRectF(a - half, b + half)
            fill = QColor(color)
            fill.setAlpha(150)
            p.setPen(outline)
            p.setBrush(fill)
            p.drawRect(rect) if self.tool == "rectangle" else p.drawEllipse(rect)
            p.setBrush(Qt.BrushStyle.NoBrush)
        if self._mouse is not None and self.tool in ("brush", "eraser", "line") and self._pan_from is None:
            r = max(self.brush_size * self.scale / 2, 1.5)
            dab = QColor(color)
            dab.setAlpha(150)        # the cursor shows the class it paints
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(dab)
            p.drawEllipse(self._mouse, r, r)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for pen in (shadow, outline):
                p.setPen(pen)
                p.drawEllipse(self._mouse, r, r)

    # -- mouse ----------------------------------------------------------------------------------------------
    def _value(self) -> int:
        return 0 if self.tool == "eraser" else self.class_id

    def _inside(self, x: float, y: float) -> bool:
        h, w = self.doc.shape
        return 0 <= round(x) < w and 0 <= round(y) < h

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.doc is None:
            return
        pos = e.position()
        if e.button() == Qt.MouseButton.MiddleButton or (e.button() == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if e.button() == Qt.MouseButton.RightButton:
            self._pick(*self.to_image(pos))
            return
        if e.button() != Qt.MouseButton.LeftButton:
            return
        x, y = self.to_image(pos)
        tool = "eyedropper" if e.modifiers() & Qt.KeyboardModifier.AltModifier else self.tool
        if tool == "eyedropper":
            self._pick(x, y)
        elif tool in ("brush", "eraser"):
            self._drag.enter_context(self.doc.stroke(tool))  # closed on release, cancelled by Escape
            self._last = (x, y)
            self.doc.paint(stroke_segment(self.doc.shape, (x, y), (x, y), self.brush_size), self._value())
        elif tool == "fill":
            if self._inside(x, y):
                with self.doc.stroke("fill"):
                    self.doc.paint(flood_fill(self.doc.labels, (round(x), round(y))), self.class_id)
                self._finish_stroke()
        elif tool == "line":
            self._line_start = (x, y)
        elif tool in SHAPES:
            self._shape = ((x, y), (x, y))
        elif tool == "polygon":
            if len(self._poly) >= 3 and self._near_first(pos):
                self.commit_polygon()
                return
            self._poly.append((x, y))
            self._lasso_drag = False
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.doc is None:
            return
        pos = e.position()
        old_mouse, self._mouse = self._mouse, pos
        if self._pan_from is not None:
            self.offset += pos - self._pan_from
            self._pan_from = pos
            self.fit_mode = False
            self.update()
            return
        self._report_cursor()
        x, y = self.to_image(pos)
        if e.buttons() & Qt.MouseButton.LeftButton:
            if self.doc.in_stroke and self._last is not None:
                self.doc.paint(stroke_segment(self.doc.shape, self._last, (x, y), self.brush_size), self._value())
                self._last = (x, y)
            elif self.tool in SHAPES and self._shape is not None:
                start = self._shape[0]
                square = e.modifiers() & Qt.KeyboardModifier.ShiftModifier
                self._shape = (start, constrain_square(start, (x, y)) if square else (x, y))
            elif self.tool == "polygon" and self._poly:
                last = self._poly[-1]
                if math.hypot(x - last[0], y - last[1]) * self.scale >= 3:
                    self._poly.append((x, y))
                    self._lasso_drag = True
        self._update_cursor_area(old_mouse, pos)

    def _update_cursor_area(self, old: QPointF | None, new: QPointF) -> None:
        if self.tool in ("line", "polygon") + SHAPES:
            self.update()
            return
        r = self.brush_size * self.scale / 2 + 4
        for pt in (old, new):
            if pt is not None:
                self.update(QRectF(pt.x() - r, pt.y() - r, 2 * r, 2 * r).toAlignedRect())

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.doc is None:
            return
        if self._pan_from is not None:
            self._pan_from = None
            self.setCursor(Qt.CursorShape.CrossCursor)
            return
        if e.button() != Qt.MouseButton.LeftButton:
            return
        x, y = self.to_image(e.position())
        if self.doc.in_stroke:
            self._drag.close()
            self._finish_stroke()
        elif self.tool == "line" and self._line_start is not None:
            with self.doc.stroke("line"):
                self.doc.paint(stroke_segment(self.doc.shape, self._line_start, (x, y), self.brush_size),
                               self.class_id)
            self._line_start = None
            self._finish_stroke()
        elif self.tool in SHAPES and self._shape is not None:
            with self.doc.stroke(self.tool):
                self.doc.paint(shape_fill(self.doc.shape, *self._shape, self.tool), self.class_id)
            self._shape = None
            self._finish_stroke()
        elif self.tool == "polygon" and self._lasso_drag and len(self._poly) >= 3:
            self.commit_polygon()
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.tool == "polygon" and len(self._poly) >= 3:
            self.commit_polygon()
        else:
            super().mouseDoubleClickEvent(e)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._mouse = None
        self.cursor_moved.emit(-1, -1, -1)
        self.update()

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, e.position())

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and len(self._poly) >= 3:
            self.commit_polygon()
        elif e.key() == Qt.Key.Key_Escape:
            self.cancel_gesture()
        else:
            super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space = False
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(e)

    # -- gestures --------------------------------------------------------------------------------------
    def _near_first(self, pos: QPointF) -> bool:
        fx, fy = self._poly[0]
        first = QPointF(self.offset.x() + (fx + 0.5) * self.scale, self.offset.y() + (fy + 0.5) * self.scale)
        return math.hypot(pos.x() - first.x(), pos.y() - first.y()) <= 8

    def commit_polygon(self) -> None:
        """Fill the polygon (or lasso) drawn so far with the current class, as one undo step."""
        if self.doc is not None and len(self._poly) >= 3:
            with self.doc.stroke("polygon"):
                self.doc.paint(polygon_fill(self.doc.shape, self._poly), self.class_id)
            self._finish_stroke()
        self._poly.clear()
        self._lasso_drag = False
        self.update()

    def cancel_gesture(self) -> None:
        if self.doc is not None and self.doc.in_stroke:
            self.doc.cancel_stroke()
        self._drag.close()
        self._poly.clear()
        self._line_start = self._shape = None
        self._lasso_drag = False
        self.update()

    def _finish_stroke(self) -> None:
        self._last = None
        self.stroke_finished.emit()

    def _pick(self, x: float, y: float) -> None:
        if self._inside(x, y):
            self.class_picked.emit(int(self.doc.labels[round(y), round(x)]))

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            self.cancel_gesture()
        self.tool = tool
        self.update()
