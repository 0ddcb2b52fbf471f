"""The gradient-health plot: each layer's ‖∂J/∂W_l‖ and ‖ΔW_l‖/‖W_l‖ against step, log scale.

Two small plots stacked, sharing the step axis, rather than one plot with solid and dashed lines:
the two quantities are different things on different scales (norms of 1e-8 … 1e2, ratios of
1e-6 … 1), so one log axis would interleave them and its label could name neither; with one
plot each, every curve of a plot is the same kind of number, each axis says what it is, and a
dozen layers stay readable.  The ratio plot has a dotted reference line at 1e-3, the usual size
of a healthy step: far above it a layer's steps overshoot (the road to divergence), far below it
the layer barely learns (vanishing gradients show in both plots at once).

Each step's values are of its mini-batch and jump from step to step, so the curves are smoothed
(a trailing geometric mean over about 1 % of the rows, :mod:`sandbox.analysis.trends`); the
readout gives the smoothed values too, as drawn.  Layers are coloured in order of depth (a sequential map, W1 the darkest on a light background),
so a fan of curves that spreads towards the input is vanishing gradients at a glance.  The curves
come from the controller's history copy (the worker records both per step, see
``TrainingRun._apply``); this view only draws them.  While hidden (another tab) it does nothing;
while shown it redraws at most every :data:`REDRAW_MS` (less often when a long, deep history
makes a redraw slow) and draws at most :data:`MAX_POINTS` points a curve, so it costs nothing
per frame.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from superqt import QElidingLabel

from ..analysis.trends import log10_smooth, sample_rows, smoothing_window
from ..formatting import format_number
from ..session.history import grad_norm_columns, update_ratio_columns
from ..session.snapshot import Snapshot
from .controller import SessionController
from .loss_plot import _FixedHost
from .names import weight_layer_label
from .plot_style import theme_axes, tick_font
from .plot_values import drawable_range
from .step_mark import ShownStepMark, StepMark
from .theme import Theme, ThemeManager

#: At most this often (ms) while shown: a dozen curves need not follow every snapshot.
REDRAW_MS = 100
#: Points drawn per curve at most (a long history is sampled evenly after smoothing): the plot
#: is a few hundred pixels wide, and 32 curves of 65,536 points cost half a second a redraw.
MAX_POINTS = 1200
#: The usual size of a healthy update-to-weight ratio (a rule of thumb, drawn as a guide).
HEALTHY_RATIO = 1e-3
#: The two plots, in order from the top: (history column prefix, axis label).
KINDS = (("grad_norm", "‖∂J/∂W‖"), ("update_ratio", "‖ΔW‖ / ‖W‖"))


def layer_colors(n_layers: int, theme: Theme) -> list[QColor]:
    """One colour per weight layer, in depth order along a sequential map (plasma), over the
    part of the map that stays visible on the theme's background."""
    lo, hi = (0.3, 0.95) if theme.dark else (0.0, 0.82)
    cmap = pg.colormap.get("plasma")
    if n_layers == 1:
        return [cmap.mapToQColor(lo)]
    return [cmap.mapToQColor(lo + (hi - lo) * l / (n_layers - 1)) for l in range(n_layers)]


def _step_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 × 10^k at least ``value`` (> 0): finer than
    the loss plot's 1-2-5, so the curves fill most of the narrow plot's width."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        nice = mantissa * 10.0**exponent
        if nice >= value * (1 - 1e-12):
            return nice if math.isfinite(nice) else value
    return value


class GradientHealthPlot(QWidget):
    """Per-layer gradient norms and update-to-weight ratios over time.

    Attributes
    ----------
    plots
        ``{"grad_norm": PlotWidget, "update_ratio": PlotWidget}``, top and bottom.
    legend_label
        The layers' colours and names under the plots.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._history = controller.history
        self._themes = themes
        self._n_layers = 0
        self._dirty = True
        self._curves: dict[str, list[pg.PlotDataItem]] = {kind: [] for kind, _ in KINDS}
        self._ranges: dict[str, tuple[float, ...] | None] = {kind: None for kind, _ in KINDS}
        self._hover_step: float | None = None
        #: The steps and the log10 of the smoothed values drawn, per kind and layer (the readout
        #: reads them).  The curves are drawn in log10 units on a linear view with log-scale
        #: axes: pyqtgraph's own log mode would take the log of every point on every redraw.
        self._x = np.zeros(0)
        self._smoothed: dict[str, list[np.ndarray]] = {kind: [] for kind, _ in KINDS}

        self._readout = QElidingLabel()
        self._readout.setTextFormat(Qt.TextFormat.PlainText)
        self._readout.setContentsMargins(4, 0, 4, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        ticks = tick_font(self.font())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(_FixedHost(self._readout))
        for kind, _label in KINDS:
            widget = pg.PlotWidget()
            widget.setMinimumSize(160, 52)  # with the tab bar, no taller than the loss plot needs
            plot = widget.getPlotItem()
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.layout.setContentsMargins(2, 4, 8, 2)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.getAxis("left").setLogMode(True)  # ticks as powers of ten; data already log10
            plot.getViewBox().disableAutoRange()
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setStyle(tickFont=ticks, tickLength=-4)
                axis.enableAutoSIPrefix(False)
            # Both plots the same width on the left, so their step axes line up.
            plot.getAxis("left").setWidth(52)
            self.plots[kind] = widget
            layout.addWidget(widget, 1)
            widget.scene().sigMouseMoved.connect(lambda pos, k=kind: self._on_scene_mouse_moved(k, pos))
        self.plots["update_ratio"].setXLink(self.plots["grad_norm"])
        self.plots["grad_norm"].getPlotItem().getAxis("bottom").setStyle(showValues=False)
        self._guide = pg.InfiniteLine(pos=math.log10(HEALTHY_RATIO), angle=0, movable=False)
        self._guide.setToolTip("1e-3: the usual size of a healthy step")
        self.plots["update_ratio"].addItem(self._guide, ignoreBounds=True)
        self._rise_marks = [StepMark(w.getPlotItem()) for w in self.plots.values()]
        self._rise_marks[1].line.label.setVisible(False)  # one label for the two plots
        self._shown_marks = [ShownStepMark(w.getPlotItem()) for w in self.plots.values()]
        self._shown_marks[1].line.label.setVisible(False)
        controller.view_state.events.time_cursor.connect(self._on_view_state_time_cursor)
        self._hover_lines = []
        for widget in self.plots.values():
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            widget.addItem(line, ignoreBounds=True)
            self._hover_lines.append(line)
        self.legend_label = QLabel()
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.legend_label.setContentsMargins(4, 2, 4, 0)
        self.legend_label.setToolTip(
            "Solid lines, one per weight layer (W1 = inputs → first hidden layer). Top: the gradient "
            "norm ‖∂J/∂W‖ of each step's mini-batch; curves far below the others are vanishing "
            "gradients, curves racing upwards exploding ones. Bottom: how far each step moved the "
            "layer's weights relative to their size; the dotted line is 1e-3.")
        layout.addWidget(self.legend_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        controller.snapshotTaken.connect(self._on_controller_snapshot_taken)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._apply_theme(themes.theme)

    # ------------------------------------------------------------------------- public

    @property
    def n_layers(self) -> int:
        return self._n_layers

    def drawn(self, kind: str, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) the curve of ``kind`` ("grad_norm" or "update_ratio") for weight
        layer ``layer`` holds (copies; empty before it first drew)."""
        curve = self._curves[kind][layer] if layer < len(self._curves[kind]) else None
        # xData / yData: the points given, before pyqtgraph's display downsampling.
        x, y = (None, None) if curve is None else (curve.xData, curve.yData)
        if x is None:
            return np.zeros(0), np.zeros(0)
        # The curves hold log10 of the values.
        return np.array(x), 10.0 ** np.array(y)

    def mark_divergence(self, step: int | None) -> None:
        """Mark the step where the loss began to rise before a divergence (None: no mark)."""
        for mark in self._rise_marks:
            mark.set_step(step)

    def divergence_mark(self) -> int | None:
        return self._rise_marks[0].step

    def shown_step(self) -> int | None:
        """The step the shown-step line marks (None at the live end)."""
        return self._shown_marks[0].step

    def _on_view_state_time_cursor(self, step: int | None, old: int | None = None) -> None:
        for mark in self._shown_marks:
            mark.set_step(step)

    def readout_text(self) -> str:
        return self._readout.text()

    def image_for_export(self) -> QImage:
        return self.grab().toImage()

    # ----------------------------------------------------------------------- handlers

    def _on_controller_snapshot_taken(self, snap: Snapshot) -> None:
        if "steps" in self._controller.history_changes:
            steps = self._history.steps
            for mark in self._rise_marks:
                mark.follow(float(steps.steps[-1]) if len(steps) else None)
        if "steps" not in self._controller.history_changes and self._n_layers == snap.n_layers:
            return
        self._dirty = True
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        if not self.isVisible():
            return  # drawn when shown again (showEvent)
        start = time.perf_counter()
        self._draw()
        # A long deep history costs tens of ms to smooth: then redraw less often, so drawing
        # takes at most ~12 % of the GUI thread (as the worker paces its snapshots).
        spent_ms = 1e3 * (time.perf_counter() - start)
        self._timer.setInterval(max(REDRAW_MS, int(8 * spent_ms)))

    def _draw(self) -> None:
        self._dirty = False
        snap = self._controller.snapshot
        n_layers = snap.n_layers if snap is not None else 0
        if n_layers != self._n_layers:
            self._make_curves(n_layers)
        steps = self._history.steps
        rows = sample_rows(len(steps), MAX_POINTS)
        window = smoothing_window(len(steps))
        self._x = x = steps.steps[rows]
        for kind, _ in KINDS:
            names = (grad_norm_columns if kind == "grad_norm" else update_ratio_columns)(n_layers)
            values = [log10_smooth(steps.column(name), window, rows) for name in names]
            self._smoothed[kind] = values
            for curve, y in zip(self._curves[kind], values):
                curve.setData(x, y)
            self._fit_view(kind, x, values)
        if self._hover_step is None:
            self._show_readout(len(x) - 1 if len(x) else None)

    def _make_curves(self, n_layers: int) -> None:
        for kind, _ in KINDS:
            plot = self.plots[kind].getPlotItem()
            for curve in self._curves[kind]:
                plot.removeItem(curve)
            self._curves[kind] = []
            for l in range(n_layers):
                curve = pg.PlotDataItem(connect="finite")
                curve.opts["autoDownsampleFactor"] = 1.0  # one bin a pixel (see the loss plot)
                curve.setZValue(l)
                plot.addItem(curve)
                self._curves[kind].append(curve)
            self._ranges[kind] = None
        self._n_layers = n_layers
        self._apply_theme(self._themes.theme)

    def _fit_view(self, kind: str, x: np.ndarray, values: list[np.ndarray]) -> None:
        """Whole decades on y, a 1-1.5-2-3… step count on x: limits that change rarely.
        ``values`` are log10 (NaN where there is nothing to draw)."""
        known = [v[np.isfinite(v)] for v in values]
        known = np.concatenate(known) if known else np.zeros(0)
        if len(known):
            y_lo, y_hi = math.floor(known.min()), math.ceil(known.max())
            if y_hi <= y_lo:
                y_lo -= 1
        else:
            y_lo, y_hi = (-4.0, 0.0) if kind == "update_ratio" else (-3.0, 1.0)
        if kind == "update_ratio":  # keep the 1e-3 guide in view
            y_lo, y_hi = min(y_lo, -4), max(y_hi, -2)
        x_hi = _step_ceiling(max(float(x[-1]) if len(x) else 0.0, 10.0))
        box = (0.0, x_hi, *drawable_range(float(y_lo), float(y_hi)))
        if box != self._ranges[kind]:
            self._ranges[kind] = box
            self.plots[kind].getPlotItem().getViewBox().setRange(xRange=box[:2], yRange=box[2:], padding=0.02)

    def _on_scene_mouse_moved(self, kind: str, scene_pos: QPointF) -> None:
        vb = self.plots[kind].getPlotItem().getViewBox()
        steps = self._x
        if not vb.sceneBoundingRect().contains(scene_pos) or not len(steps):
            self._end_hover()
            return
        x = vb.mapSceneToView(scene_pos).x()
        i = int(np.clip(np.searchsorted(steps, x), 0, len(steps) - 1))
        if i > 0 and x - steps[i - 1] <= steps[i] - x:
            i -= 1
        self._hover_step = float(steps[i])
        for line in self._hover_lines:
            line.setPos(self._hover_step)
            line.setVisible(True)
        self._show_readout(i)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._end_hover()
        super().leaveEvent(event)

    def _end_hover(self) -> None:
        if self._hover_step is not None:
            self._hover_step = None
            for line in self._hover_lines:
                line.setVisible(False)
            self._show_readout(len(self._x) - 1 if len(self._x) else None)

    def _show_readout(self, i: int | None) -> None:
        """"step N · ‖∂J/∂W‖ W1 … WL · ratio W1 … WL" for drawn point ``i`` (the newest when not
        hovering); the tooltip has the same text, so nothing elided is lost."""
        if i is None or self._n_layers == 0:
            text = "No steps yet: press Play or Step"
        else:
            parts = [f"step {int(round(float(self._x[i]))):,}"]
            for kind, label in KINDS:
                smoothed = self._smoothed[kind]
                values = ", ".join(f"{weight_layer_label(l)} {format_number(float(10.0 ** v[i]))}"
                                   for l, v in enumerate(smoothed) if i < len(v))
                parts.append(f"{label}: {values}")
            text = " · ".join(parts)
        if text != self._readout.text():
            self._readout.setText(text)
            self._readout.setToolTip(text)

    # -------------------------------------------------------------------------- theme

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._apply_theme(theme)

    def _apply_theme(self, theme: Theme) -> None:
        colors = layer_colors(self._n_layers, theme) if self._n_layers else []
        for kind, label in KINDS:
            widget = self.plots[kind]
            theme_axes(widget, theme)
            plot = widget.getPlotItem()
            plot.setLabel("left", label, color=theme.text)
            for curve, color in zip(self._curves[kind], colors):
                # Wide antialiased lines cost ~5 µs a segment: thin ones once there are many.
                curve.setPen(pg.mkPen(color, width=1.5 if self._n_layers <= 6 else 1.0))
        self.plots["update_ratio"].getPlotItem().setLabel("bottom", "step", color=theme.text)
        self._guide.setPen(pg.mkPen(theme.qcolor("text", 150), width=1, style=Qt.PenStyle.DotLine))
        for line in self._hover_lines:
            line.setPen(pg.mkPen(theme.qcolor("text", 140), width=1, style=Qt.PenStyle.DotLine))
        for mark in (*self._rise_marks, *self._shown_marks):
            mark.apply_theme(theme)
        swatches = " ".join(f"<span style='color:{c.name()}'>\u2501\u2501</span> {weight_layer_label(l)}"
                            for l, c in enumerate(colors))
        self.legend_label.setText(swatches or "&nbsp;")
