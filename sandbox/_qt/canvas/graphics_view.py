"""The canvas's scrolling graphics view: reports pointer activity in scene coordinates."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget


class CanvasView(QGraphicsView):
    """The scrolling view; reports pointer activity in scene coordinates."""

    pointerMoved = Signal(QPointF, QPoint)  # scene position, global position
    pointerPressed = Signal(QPointF)
    pointerLeft = Signal()
    viewportResized = Signal()

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(160, 120)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.pointerMoved.emit(self.mapToScene(event.position().toPoint()), event.globalPosition().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.pointerPressed.emit(self.mapToScene(event.position().toPoint()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            # The scene would hide our tooltip (no item has one); the canvas shows its own.
            return True
        if event.type() == QEvent.Type.Leave:
            self.pointerLeft.emit()
        if event.type() == QEvent.Type.Resize:
            result = super().viewportEvent(event)
            self.viewportResized.emit()
            return result
        return super().viewportEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.pointerLeft.emit()
        super().leaveEvent(event)
