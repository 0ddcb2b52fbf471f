"""How every small pyqtgraph plot in the app looks: no context menu or auto-range button,
small inward ticks without SI prefixes, and axes in the theme's colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

from .theme import Theme

AXES = ("left", "bottom")


def tick_font(font: QFont) -> QFont:
    """``font`` one point smaller (at least 7 pt): the ticks of a small plot."""
    small = QFont(font)
    small.setPointSizeF(max(7.0, small.pointSizeF() - 1.0))
    return small


def quiet_plot(plot: pg.PlotItem, font: QFont, tick_length: int = -4) -> None:
    """No menu or auto-range button, small inward ticks, plain numbers (no "×1e-3" prefix)."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    ticks = tick_font(font)
    for name in AXES:
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=ticks, tickLength=tick_length)
        axis.enableAutoSIPrefix(False)


def theme_axes(widget: pg.PlotWidget, theme: Theme) -> None:
    """The plot's background and its axes in ``theme``'s colours."""
    widget.setBackground(theme.base)
    plot = widget.getPlotItem()
    for name in AXES:
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(theme.muted))
        axis.setTextPen(pg.mkPen(theme.text))
