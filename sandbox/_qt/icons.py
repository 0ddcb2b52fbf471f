"""Toolbar icons drawn in the theme's text colour, so they read on light and dark alike.

(The style's stock media icons are black, which disappears on a dark toolbar.)
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

SIZE = 64


def _triangle(p: QPainter, x0: float, x1: float) -> None:
    path = QPainterPath()
    path.moveTo(x0, 14)
    path.lineTo(x1, 32)
    path.lineTo(x0, 50)
    path.closeSubpath()
    p.drawPath(path)


def _draw(kind: str, p: QPainter, color: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    if kind == "play":
        _triangle(p, 18, 50)
    elif kind == "pause":
        p.drawRoundedRect(QRectF(17, 14, 11, 36), 2, 2)
        p.drawRoundedRect(QRectF(36, 14, 11, 36), 2, 2)
    elif kind == "step":
        _triangle(p, 14, 42)
        p.drawRect(QRectF(44, 14, 7, 36))
    elif kind == "epoch":
        _triangle(p, 6, 30)
        _triangle(p, 28, 52)
        p.drawRect(QRectF(53, 14, 6, 36))
    elif kind == "phase":
        # One stage of three: a filled dot, then two hollow ones.
        pen = QPen(color, 4)
        for k, x in enumerate((14, 32, 50)):
            if k == 0:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(color)
            else:
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(x, 32), 7, 7)
    elif kind == "reset":
        pen = QPen(color, 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QRectF(14, 14, 36, 36), 100 * 16, 280 * 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        tip = QPainterPath()  # the arrowhead at the start of the arc, pointing anticlockwise
        angle = math.radians(100)
        cx, cy = 32 + 18 * math.cos(angle), 32 - 18 * math.sin(angle)
        tip.moveTo(cx + 11, cy)
        tip.lineTo(cx - 4, cy - 10)
        tip.lineTo(cx - 4, cy + 10)
        tip.closeSubpath()
        p.drawPath(tip)
    elif kind == "seed":
        pen = QPen(color, 4)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QRectF(12, 12, 40, 40), 8, 8)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        for x, y in ((23, 23), (41, 23), (32, 32), (23, 41), (41, 41)):
            p.drawEllipse(QPointF(x, y), 4, 4)
    else:
        raise ValueError(f"no icon {kind!r}")


def training_icon(kind: str, color: str) -> QIcon:
    """``play``, ``pause``, ``step``, ``epoch``, ``phase``, ``reset`` or ``seed``."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _draw(kind, painter, QColor(color))
    painter.end()
    return QIcon(pixmap)
