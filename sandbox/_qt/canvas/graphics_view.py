"""The canvas's scrolling graphics view: reports pointer activity in scene coordinates."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QResizeEvent
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QStyle, QWidget


class CanvasView(QGraphicsView):
    """The scrolling view; reports pointer activity in scene coordinates."""

    pointerMoved = Signal(QPointF, QPoint)  # scene position, global position
    pointerPressed = Signal(QPointF)
    pointerLeft = Signal()
    resized = Signal()  # the view itself, not its viewport (which also changes with the scroll bars)

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
        self._size = QSize()

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
        return super().viewportEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # QAbstractScrollArea hands its viewport's resizes here too (a scroll bar shown or
        # hidden): only a change of the view's own size is news.
        if self.size() != self._size:
            self._size = self.size()
            self.resized.emit()

    def scroll_bar_extents(self) -> tuple[float, float]:
        """(height of the horizontal bar, width of the vertical one) as this view reserves them
        (QGraphicsView's own rule: the style's scroll bar extent, plus the spacing where the
        frame goes only around the contents; nothing for bars drawn over the contents)."""
        style = self.style()
        if style.styleHint(QStyle.StyleHint.SH_ScrollBar_Transient, None, self):
            return 0.0, 0.0
        extent = style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        if self.frameShape() != QFrame.Shape.NoFrame and style.styleHint(
                QStyle.StyleHint.SH_ScrollView_FrameOnlyAroundContents, None, self):
            extent += style.pixelMetric(QStyle.PixelMetric.PM_ScrollView_ScrollBarSpacing, None, self)
        return float(extent), float(extent)

    def leaveEvent(self, event: QEvent) -> None:
        self.pointerLeft.emit()
        super().leaveEvent(event)
