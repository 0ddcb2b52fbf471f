"""Earlier runs in the loss plot: one dimmed, labelled curve each, and a dot where a run branched.

An earlier run (see :mod:`sandbox.session.runs`) is drawn by its training-set loss (the
mini-batch loss when it never evaluated the full set), thinner and fainter than the live run's
curves, in a colour that belongs to its number (Run 3 keeps its colour while other runs come
and go), with its label at the end of the curve.  The legend row under the plot says what
differed: the texts come from the session model (``EarlierRun.legend``); this module only
draws.  Overlays are rebuilt only when the catalog's revision changes, never per frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ..session.runs import EarlierRun, RunCatalog
from .plot_values import drawable
from .theme import Theme

#: One colour per run number (cycled), none of them the live run's blue or orange.
RUN_COLOURS = ("#009E73", "#CC79A7", "#8C6D31", "#7F3C8D", "#999999", "#3969AC", "#E6AB02", "#66A61E")
#: How opaque an earlier run's curve is (0–255): present, but behind the live run.
RUN_ALPHA = 150


def run_colour(run_id: int) -> str:
    return RUN_COLOURS[(run_id - 1) % len(RUN_COLOURS)]


def run_points(run: EarlierRun) -> tuple[np.ndarray, np.ndarray]:
    """The (steps, losses) drawn for an earlier run: its training-set loss where it has at
    least two evaluations, else its mini-batch loss."""
    evals = run.curves.evaluations
    train = evals[:, 1] if len(evals) else np.zeros(0)
    if np.isfinite(train).sum() >= 2:
        return evals[:, 0], train
    steps = run.curves.steps
    return steps[:, 0], steps[:, 1]


class RunOverlays:
    """The earlier runs' curves, labels and branch dots on one plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._items: list[pg.GraphicsObject] = []
        self._revision: int | None = None
        self._theme: Theme | None = None
        self._catalog: RunCatalog | None = None
        #: (steps, losses) of every visible earlier run, for the view's range.
        self.drawn: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._dot: tuple[float, float] | None = None
        self.branch_dot = pg.ScatterPlotItem(size=9, pxMode=True)
        self.branch_dot.setZValue(18)
        self.branch_dot.setToolTip("where the live run branched off an earlier run")
        plot.addItem(self.branch_dot)

    def update(self, catalog: RunCatalog | None, live_curve: tuple[np.ndarray, np.ndarray]) -> bool:
        """Redraw if the runs changed; True if anything was redrawn.  ``live_curve`` is the live
        run's (steps, training-set loss), for its branch dot."""
        revision = None if catalog is None else catalog.revision
        if revision == self._revision:
            self._place_branch_dot(live_curve)
            return False
        self._revision = revision
        self._catalog = catalog
        self._rebuild()
        self._place_branch_dot(live_curve)
        return True

    def _rebuild(self) -> None:
        catalog = self._catalog
        for item in self._items:
            self._plot.removeItem(item)
        self._items.clear()
        self.drawn.clear()
        if catalog is not None and self._theme is not None:
            for run in catalog.earlier:
                if run.visible:
                    self._draw_run(run)

    def _draw_run(self, run: EarlierRun) -> None:
        x, y = run_points(run)
        y = drawable(y)
        self.drawn[run.info.run_id] = (x, y)
        colour = QColor(run_colour(run.info.run_id))
        colour.setAlpha(RUN_ALPHA)
        pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashDotLine)
        curve = pg.PlotDataItem(x, y, pen=pen, connect="finite")
        curve.setZValue(-2)  # under the live curves
        curve.setToolTip(run.legend)
        self._plot.addItem(curve)
        self._items.append(curve)
        finite = np.flatnonzero(np.isfinite(y))
        if len(finite):
            last = finite[-1]
            label = pg.TextItem(run.info.label, color=colour, anchor=(0, 0.5))
            label.setPos(float(x[last]), float(y[last]))
            label.setZValue(-1)
            self._plot.addItem(label, ignoreBounds=True)
            self._items.append(label)

    def _place_branch_dot(self, live_curve: tuple[np.ndarray, np.ndarray]) -> None:
        catalog = self._catalog
        step = None if catalog is None else catalog.live.branched_at
        x, y = live_curve
        finite = np.isfinite(y)
        if step is None or not finite.any() or self._theme is None:
            point = None
        else:
            value = float(np.interp(step, x[finite], y[finite]))
            point = (float(step), float(drawable(np.array([value]))[0]))
        if point != self._dot:  # set only when it moves: setData costs a redraw
            self._dot = point
            self.branch_dot.setData(*(([point[0]], [point[1]]) if point else ([], [])))

    def legend_html(self, theme: Theme) -> str:
        """The legend row: a swatch and what differed, per earlier run (hidden ones struck)."""
        catalog = self._catalog
        if catalog is None or not catalog.earlier:
            return ""
        parts = []
        for run in catalog.earlier:
            text = run.legend.replace("&", "&amp;").replace("<", "&lt;")
            if not run.visible:
                text = f"<s>{text}</s>"
            parts.append(f"<span style='color:{run_colour(run.info.run_id)}'>\u254c\u254c</span> {text}")
        return "&nbsp;&nbsp; ".join(parts)

    def legend_tooltip(self) -> str:
        catalog = self._catalog
        if catalog is None or not catalog.earlier:
            return ""
        lines = ["Earlier runs (Runs menu: show, hide, switch to, clear):"]
        for run in catalog.earlier:
            ended = f" — {run.info.ended}" if run.info.ended else ""
            shown = "" if run.visible else " (hidden)"
            lines.append(f"{run.legend}{shown}{ended}")
        return "\n".join(lines)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.branch_dot.setBrush(pg.mkBrush(theme.selection))
        self.branch_dot.setPen(pg.mkPen(theme.text, width=1))
        self._rebuild()
