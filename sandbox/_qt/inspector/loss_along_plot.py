"""The loss along one weight: J(w) with everything else fixed, its tangent, and the next step.

"The gradient is the slope": the curve is J as the selected parameter varies, the straight line
touching it at the current value has slope ∂J/∂w, and the optimizer's next step lands where
the second marker is.  Everything drawn comes from a
:class:`~sandbox.session.loss_probes.LossCurve` the worker computed; the tangent's points come
from :func:`sandbox.analysis.what_if.tangent`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...analysis.what_if import tangent
from ...formatting import format_number
from ...session.loss_probes import LossCurve
from ..plot_style import quiet_plot, theme_axes, tick_font
from ..theme import VERMILLION, Theme


class LossAlongPlot(QWidget):
    """J along the selected parameter (a pyqtgraph plot), for the What-if tab.

    Attributes
    ----------
    plot_widget
        The pyqtgraph PlotWidget.
    curve_item, tangent_item, current_item, next_item
        J(v), the tangent at w, the current point (w, J) and the next step's point.
    what_if_line
        The value the what-if field would set, w + Δw: where the tangent (the prediction) and
        the curve (the actual J) part is the prediction's error.
    caption
        What the plot shows, under it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curve: LossCurve | None = None
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(180, 110)
        self.plot_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        plot = self.plot_widget.getPlotItem()
        quiet_plot(plot, self.font())
        plot.layout.setContentsMargins(2, 4, 6, 2)
        self.plot_widget.setMouseEnabled(x=False, y=False)
        self.plot_widget.setToolTip(
            "Solid: J as this parameter varies, everything else fixed. Dashed orange: the tangent at "
            "the current value (\u25cf), slope \u2202J/\u2202w. Dotted: where the next optimizer step "
            "puts it (\u25b2). Dashed blue: w + \u0394w from the what-if field; the gap between tangent "
            "and curve there is the prediction's error.")
        self.curve_item = pg.PlotDataItem()
        self.tangent_item = pg.PlotDataItem()
        self.next_line = pg.InfiniteLine(angle=90, movable=False)
        self.what_if_line = pg.InfiniteLine(angle=90, movable=False)
        self.what_if_line.setVisible(False)
        plot.addItem(self.what_if_line)
        self.current_item = pg.ScatterPlotItem(size=9)
        self.next_item = pg.ScatterPlotItem(size=8, symbol="t1")
        for item in (self.next_line, self.curve_item, self.tangent_item, self.current_item, self.next_item):
            plot.addItem(item)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        self.caption.setFont(tick_font(self.font()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)

    # ----------------------------------------------------------------------- drawing

    def show_curve(self, curve: LossCurve) -> None:
        """Draw J along the parameter, the tangent at w and the next step."""
        self.curve = curve
        values, losses = curve.values, curve.losses
        finite = np.isfinite(losses)
        self.curve_item.setData(values[finite], losses[finite])
        lo, hi = float(values[0]), float(values[-1])
        ends = np.array([lo, hi])
        if math.isfinite(curve.gradient) and math.isfinite(curve.objective):
            self.tangent_item.setData(ends, tangent(ends, curve.value, curve.objective, curve.gradient))
        else:
            self.tangent_item.setData([], [])
        self.current_item.setData([curve.value], [curve.objective]) if math.isfinite(curve.objective) \
            else self.current_item.setData([], [])
        moves = math.isfinite(curve.next_value) and curve.next_value != curve.value
        if moves and math.isfinite(curve.next_objective):
            self.next_item.setData([curve.next_value], [curve.next_objective])
        else:
            self.next_item.setData([], [])
        self.next_line.setVisible(moves)
        if moves:
            self.next_line.setValue(curve.next_value)
        # The y range is the curve's own: the tangent may run far off it and must not squash it.
        if finite.any():
            y_lo, y_hi = float(losses[finite].min()), float(losses[finite].max())
            pad = 0.08 * (y_hi - y_lo) if y_hi > y_lo else max(abs(y_hi) * 0.1, 1e-3)
            self.plot_widget.setRange(xRange=(lo, hi), yRange=(y_lo - pad, y_hi + pad), padding=0)
        name = curve.ref.name
        step = curve.next_value - curve.value
        self.caption.setText(
            f"J as {name} varies, all else fixed. Dashed: the tangent, slope \u2202J/\u2202{name[0]} = "
            f"{format_number(curve.gradient, signed=True)}. \u25b2: after the next step "
            f"(\u0394{name[0]} = {format_number(step, signed=True)})"
        )

    def show_what_if(self, value: float | None) -> None:
        """Mark w + Δw (None: no mark)."""
        shown = value is not None and math.isfinite(value)
        self.what_if_line.setVisible(shown)
        if shown:
            self.what_if_line.setValue(value)

    def clear(self, message: str = "") -> None:
        self.curve = None
        for item in (self.curve_item, self.tangent_item, self.current_item, self.next_item):
            item.setData([], [])
        self.next_line.setVisible(False)
        self.what_if_line.setVisible(False)
        self.caption.setText(message)

    def apply_theme(self, theme: Theme) -> None:
        theme_axes(self.plot_widget, theme)
        self.curve_item.setPen(pg.mkPen(theme.positive, width=2))
        tangent_pen = pg.mkPen(VERMILLION, width=1.5, style=Qt.PenStyle.DashLine)
        self.tangent_item.setPen(tangent_pen)
        self.current_item.setBrush(pg.mkBrush(theme.selection))
        self.current_item.setPen(pg.mkPen(theme.base, width=1))
        self.next_item.setBrush(pg.mkBrush(theme.text))
        self.next_item.setPen(pg.mkPen(theme.base, width=1))
        self.next_line.setPen(pg.mkPen(theme.qcolor("muted", 160), width=1, style=Qt.PenStyle.DotLine))
        self.what_if_line.setPen(pg.mkPen(theme.qcolor("accent", 200), width=1, style=Qt.PenStyle.DashLine))
        palette = self.caption.palette()
        palette.setColor(self.caption.foregroundRole(), theme.qcolor("muted"))
        self.caption.setPalette(palette)
