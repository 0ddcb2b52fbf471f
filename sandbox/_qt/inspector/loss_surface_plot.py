"""The loss over two weights: a heatmap of J, the −∇J arrow and the path the weights took.

The heatmap comes from a :class:`~sandbox.session.loss_probes.LossSurfaceResult` the worker
computed; the arrow's end from :func:`sandbox.analysis.what_if.descent_arrow`; the path is the
pair of values in the recent snapshots the What-if view kept (a bounded trail).
"""

from __future__ import annotations

import math
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...analysis.what_if import descent_arrow
from ...formatting import format_number
from ...session.loss_probes import LossSurfaceResult
from ..plot_style import quiet_plot, theme_axes, tick_font
from ..theme import VERMILLION, Theme

class LossSurfacePlot(QWidget):
    """J over two parameters as a heatmap, for the What-if tab.

    Attributes
    ----------
    plot_widget
        The pyqtgraph PlotWidget.
    image
        The heatmap (an ImageItem; brighter is higher J).
    arrow_line, arrow_head
        The −∇J arrow from the current point.
    trail_item, point_item
        The path over recent snapshots and the current point.
    caption
        What the plot shows, under it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: LossSurfaceResult | None = None
        self.trail: list[tuple[float, float]] = []
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(160, 110)
        self.plot_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        plot = self.plot_widget.getPlotItem()
        quiet_plot(plot, self.font())
        plot.layout.setContentsMargins(2, 4, 6, 2)
        self.plot_widget.setMouseEnabled(x=False, y=False)
        # Equal scales on both axes: −∇J then looks perpendicular to the level sets, as it is.
        plot.getViewBox().setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.trail_item = pg.PlotDataItem()
        self.arrow_line = pg.PlotDataItem()
        self.arrow_head = pg.ArrowItem(headLen=13, headWidth=9, tailLen=0, pxMode=True)
        self.point_item = pg.ScatterPlotItem(size=8)
        for item in (self.image, self.trail_item, self.arrow_line, self.arrow_head, self.point_item):
            plot.addItem(item)
        self.arrow_head.setVisible(False)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        self.caption.setFont(tick_font(self.font()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)

    # ------------------------------------------------------------------------- trail

    def set_trail(self, points: list[tuple[float, float]]) -> None:
        """Draw the path the two parameters took (oldest first; the last is the current point)."""
        self.trail = list(points)
        if len(self.trail) < 2:
            self.trail_item.setData([], [])
            return
        pts = np.array(self.trail)
        self.trail_item.setData(pts[:, 0], pts[:, 1])

    # ----------------------------------------------------------------------- drawing

    def show_surface(self, result: LossSurfaceResult) -> None:
        """Draw the heatmap, the current point and the −∇J arrow."""
        self.result = result
        va, vb, losses = result.values_a, result.values_b, result.losses
        finite = np.isfinite(losses)
        # Rows are the second weight (the y axis), columns the first (x).
        img = np.ascontiguousarray(losses.T, dtype=np.float32)
        if finite.any():
            lo, hi = float(losses[finite].min()), float(losses[finite].max())
            img = np.where(np.isfinite(img), img, hi).astype(np.float32)
            self.image.setImage(img, levels=(lo, hi if hi > lo else lo + 1e-12), autoLevels=False)
        else:
            self.image.setImage(np.zeros((2, 2), np.float32), levels=(0, 1), autoLevels=False)
        da = (va[-1] - va[0]) / max(1, len(va) - 1)
        db = (vb[-1] - vb[0]) / max(1, len(vb) - 1)
        # Each pixel centred on its grid value.
        self.image.setRect(QRectF(va[0] - da / 2, vb[0] - db / 2, va[-1] - va[0] + da, vb[-1] - vb[0] + db))
        self.plot_widget.setRange(xRange=(va[0], va[-1]), yRange=(vb[0], vb[-1]), padding=0)
        pa, pb = result.point
        self.point_item.setData([pa], [pb])
        extent = ((va[-1] - va[0]) / 2, (vb[-1] - vb[0]) / 2)
        end = descent_arrow(result.point, result.gradient, extent)
        if end is None:
            self.arrow_line.setData([], [])
            self.arrow_head.setVisible(False)
        else:
            self.arrow_line.setData([pa, end[0]], [pb, end[1]])
            # The head points along the arrow on screen (pyqtgraph's angle 0 points left).
            vb_ = self.plot_widget.getPlotItem().getViewBox()
            self.arrow_head.setPos(*end)
            self.arrow_head.setStyle(angle=_screen_angle(vb_, result.point, end))
            self.arrow_head.setVisible(True)
        a, b = result.refs
        ga, gb = result.gradient
        self.caption.setText(
            f"J over {a.name} (x) and {b.name} (y), dark = low. Arrow: \u2212\u2207J = "
            f"({format_number(-ga, signed=True)}, {format_number(-gb, signed=True)}); white: the path so far"
        )

    def clear(self, message: str = "") -> None:
        self.result = None
        self.image.clear()
        for item in (self.point_item, self.arrow_line):
            item.setData([], [])
        self.arrow_head.setVisible(False)
        self.set_trail([])
        self.caption.setText(message)

    def apply_theme(self, theme: Theme) -> None:
        theme_axes(self.plot_widget, theme)
        # On viridis (dark blue to yellow) white and vermillion both stand out.
        self.trail_item.setPen(pg.mkPen("#ffffff", width=1.5))
        self.arrow_line.setPen(pg.mkPen(VERMILLION, width=3))
        self.arrow_head.setStyle(brush=pg.mkBrush(VERMILLION), pen=pg.mkPen(VERMILLION))
        self.point_item.setBrush(pg.mkBrush(theme.selection))
        self.point_item.setPen(pg.mkPen("#ffffff", width=1.5))
        palette = self.caption.palette()
        palette.setColor(self.caption.foregroundRole(), theme.qcolor("muted"))
        self.caption.setPalette(palette)


def _screen_angle(view_box, start: tuple[float, float], end: tuple[float, float]) -> float:
    """pyqtgraph's ArrowItem angle (degrees; 0 points left, screen y down) for start → end as
    drawn: the axes may be scaled differently, so the angle is taken in pixels."""
    rect = view_box.viewRect()
    size = view_box.size()
    sx = size.width() / rect.width() if rect.width() else 1.0
    sy = size.height() / rect.height() if rect.height() else 1.0
    dx = (end[0] - start[0]) * sx
    dy = -(end[1] - start[1]) * sy  # screen y grows downwards
    return math.degrees(math.atan2(-dy, -dx)) if (dx or dy) else 0.0
