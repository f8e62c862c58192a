"""Tool icons drawn with QPainter (no image files to ship or license)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

FG = QColor(220, 224, 230)
ACCENT = QColor(90, 170, 250)


def _canvas(size: int = 64) -> tuple[QPixmap, QPainter]:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 32, size / 32)
    return pm, p


def tool_icon(tool: str) -> QIcon:
    pm, p = _canvas()
    pen = QPen(FG, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    if tool == "brush":
        p.save()
        p.translate(16, 16)
        p.rotate(45)
        p.drawRoundedRect(QRectF(-3, -14, 6, 15), 2, 2)
        p.setBrush(ACCENT)
        path = QPainterPath(QPointF(-4, 3))
        path.quadTo(QPointF(-5, 10), QPointF(0, 14))
        path.quadTo(QPointF(5, 10), QPointF(4, 3))
        path.closeSubpath()
        p.drawPath(path)
        p.restore()
    elif tool == "eraser":
        p.save()
        p.translate(16, 17)
        p.rotate(-40)
        p.drawRect(QRectF(-11, -6, 22, 12))
        p.setBrush(QColor(230, 120, 140))
        p.drawRect(QRectF(-11, -6, 9, 12))
        p.restore()
        p.drawLine(QPointF(6, 28), QPointF(27, 28))
    elif tool == "fill":
        p.save()
        p.translate(14, 17)
        p.rotate(-30)
        p.drawPolygon(QPolygonF([QPointF(-8, -6), QPointF(8, -6), QPointF(6, 9), QPointF(-6, 9)]))
        p.restore()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ACCENT)
        path = QPainterPath(QPointF(26, 16))
        path.cubicTo(QPointF(22, 22), QPointF(24, 27), QPointF(26, 27))
        path.cubicTo(QPointF(28, 27), QPointF(30, 22), QPointF(26, 16))
        p.drawPath(path)
    elif tool == "line":
        p.drawLine(QPointF(6, 26), QPointF(26, 6))
        p.setBrush(ACCENT)
        p.drawEllipse(QPointF(6, 26), 3, 3)
        p.drawEllipse(QPointF(26, 6), 3, 3)
    elif tool == "polygon":
        poly = QPolygonF([QPointF(5, 24), QPointF(11, 6), QPointF(27, 10), QPointF(23, 26)])
        p.setBrush(QBrush(QColor(90, 170, 250, 110)))
        p.drawPolygon(poly)
        p.setBrush(ACCENT)
        for pt in poly:
            p.drawEllipse(pt, 2.2, 2.2)
    elif tool in ("rectangle", "ellipse"):
        p.setBrush(QBrush(QColor(90, 170, 250, 110)))
        shape = QRectF(5, 8, 22, 16)
        p.drawRect(shape) if tool == "rectangle" else p.drawEllipse(shape)
    elif tool == "eyedropper":
        p.save()
        p.translate(16, 16)
        p.rotate(45)
        p.drawRoundedRect(QRectF(-3, -6, 6, 16), 2, 2)
        p.setBrush(ACCENT)
        p.drawRoundedRect(QRectF(-5, -13, 10, 7), 2, 2)
        p.drawLine(QPointF(0, 10), QPointF(0, 14))
        p.restore()
    p.end()
    return QIcon(pm)


def dice_icon() -> QIcon:
    pm, p = _canvas()
    p.setPen(QPen(FG, 2))
    p.drawRoundedRect(QRectF(5, 5, 22, 22), 4, 4)
    p.setBrush(FG)
    for x, y in ((11, 11), (21, 21), (16, 16), (21, 11), (11, 21)):
        p.drawEllipse(QPointF(x, y), 1.8, 1.8)
    p.end()
    return QIcon(pm)


def app_icon() -> QIcon:
    pm, p = _canvas(128)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(6, 230, 230))
    p.drawRoundedRect(QRectF(2, 2, 28, 28), 6, 6)
    p.setBrush(QColor(143, 255, 140))
    p.drawPolygon(QPolygonF([QPointF(2, 22), QPointF(12, 10), QPointF(20, 18), QPointF(24, 14), QPointF(30, 20),
                             QPointF(30, 24), QPointF(2, 24)]))
    p.setBrush(QColor(4, 250, 7))
    p.drawRoundedRect(QRectF(2, 22, 28, 8), 3, 3)
    p.drawRect(QRectF(2, 22, 28, 4))
    p.end()
    return QIcon(pm)
