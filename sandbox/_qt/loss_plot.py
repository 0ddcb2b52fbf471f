"""The loss plot: train, test and mini-batch loss against step, with a marker at every edit.

The series are rebuilt from the history deltas every snapshot carries (``snapshotTaken``, so a
snapshot the GUI dropped as stale still contributes its rows).  They live in numpy buffers whose
capacity doubles when full (pyqtgraph's ``examples/scrollingPlots.py``); each snapshot hands
pyqtgraph a slice.  Appending writes only past the slice's end, and a replacement allocates new
buffers, so the arrays pyqtgraph holds never change under it.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget
from superqt import QElidingLabel

from ..session.history import Marker
from ..session.snapshot import SeriesDelta, Snapshot
from .controller import SessionController
from .theme import VERMILLION, Theme, ThemeManager

SERIES = ("train", "test", "batch")
_LEGEND_NAMES = {"train": "train", "test": "test", "batch": "mini-batch"}
#: How close (in pixels) the mouse must be to a marker for its text to show.
MARKER_HOVER_PX = 5.0
#: Shortest time between two redraws of the curves.
DRAW_INTERVAL_MS = 0
#: Seconds between refreshes of the values shown in the legend while not hovering.
LEGEND_INTERVAL_S = 0.25


class _Buffer:
    """Rows of (step, value, …) in column-major numpy storage that doubles when full."""

    def __init__(self, n_columns: int, capacity: int = 1024) -> None:
        self._data = np.empty((n_columns, capacity))
        self.n = 0

    def clear(self) -> None:
        self.keep(0)

    def keep(self, start: int) -> None:
        """Keep the first ``start`` rows only.

        Into a new array: pyqtgraph holds slices of the old one, which must not change.
        """
        if start >= self.n:
            return
        data = np.empty_like(self._data)
        data[:, :start] = self._data[:, :start]
        self._data = data
        self.n = start

    def append(self, columns: np.ndarray) -> None:
        """Append ``columns`` ((n_columns, k))."""
        k = columns.shape[1]
        if self.n + k > self._data.shape[1]:
            grown = np.empty((len(self._data), max(2 * self._data.shape[1], self.n + k)))
            grown[:, : self.n] = self._data[:, : self.n]
            self._data = grown
        self._data[:, self.n : self.n + k] = columns
        self.n += k

    def column(self, i: int) -> np.ndarray:
        return self._data[i, : self.n]

    def last(self, i: int) -> float:
        """The newest value of column ``i`` (0.0 when empty)."""
        return float(self._data[i, self.n - 1]) if self.n else 0.0


def _columns(delta: SeriesDelta, names: tuple[str, ...]) -> np.ndarray:
    """(1 + len(names), k): the step column and the named value columns of ``delta.rows``."""
    rows = delta.rows
    out = np.full((1 + len(names), len(rows)), np.nan)
    if len(rows):
        out[0] = rows[:, 0]
        for i, name in enumerate(names, start=1):
            if name in delta.columns:
                out[i] = rows[:, 2 + delta.columns.index(name)]
    return out


def format_value(v: float) -> str:
    """Three decimals in the usual range of a loss (steady width), else 3 significant digits."""
    if not math.isfinite(v):
        return "–"
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.3f}"
    return f"{v:.2e}"


#: Losses beyond this are drawn at it: a diverging run reaches 1e308, and ranges, ticks and
#: padding computed near the top of the double range overflow.
DRAWABLE_MAX = 1e300


def _drawable(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -DRAWABLE_MAX, DRAWABLE_MAX)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``value`` (> 0)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        nice = mantissa * 10.0**exponent
        if nice >= value * (1 - 1e-12):
            # Near the top of the double range (a diverged run) the rounding overflows.
            return nice if math.isfinite(nice) else value
    return value


def _nice_floor(value: float) -> float:
    """−_nice_ceiling(−value) for negative values; 0 otherwise."""
    return -_nice_ceiling(-value) if value < 0 else 0.0


class _ReadoutHost(QWidget):
    """Holds the readout label outside any layout.

    The readout changes with every draw, and a label in a layout asks its ancestors to
    relayout on every text change, which would relayout (and animate) the whole main window
    each frame.  Here the label just fills this widget, whose own size never depends on it.
    """

    def __init__(self, label: QLabel) -> None:
        super().__init__()
        self.label = label
        label.setParent(self)
        self.setFixedHeight(label.fontMetrics().height() + 6)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(120, self.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.label.setGeometry(self.rect())


class LossPlot(QWidget):
    """Loss against step (bottom right of the main window).

    Attributes
    ----------
    log_checkbox
        "Log scale" for the loss axis.
    plot_widget
        The pyqtgraph PlotWidget.
    legend
        Its legend (train, test, mini-batch).
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._run_id: int | None = None
        self._steps = _Buffer(2)  # step, mini-batch loss
        self._evals = _Buffer(3)  # step, train loss, test loss
        self._marker_steps = np.zeros(0)
        self._marker_texts: list[str] = []
        self._hovering = False
        self._readout = ""
        self._dirty: set[str] = set()  # what changed since the last draw: steps, evals, markers
        self._last_draw = -math.inf
        self._legend_refreshed = -math.inf
        self._live: tuple[float, float, float] | None = None  # step, train, test of the newest snapshot
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.timeout.connect(self._draw)

        self._readout_label = QElidingLabel()
        self._readout_label.setTextFormat(Qt.TextFormat.PlainText)
        self.log_checkbox = QCheckBox("Log scale")
        self.log_checkbox.setToolTip("Logarithmic loss axis (zero and negative values are left out)")
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.setSpacing(8)
        header.addWidget(_ReadoutHost(self._readout_label), 1)
        header.addWidget(self.log_checkbox)

        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(160, 120)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.layout.setContentsMargins(2, 6, 8, 2)  # room for the top tick label
        # Long runs: draw at most a few points per pixel, and only what is in view.
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        tick_font = QFont(self.font())
        tick_font.setPointSizeF(max(7.0, tick_font.pointSizeF() - 1.0))
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setStyle(tickFont=tick_font, tickLength=-4)
            # Plain numbers: "loss (x0.001)" over ticks 1 … 100 misreads easily.
            axis.enableAutoSIPrefix(False)
        self._vb = plot.getViewBox()
        # The view follows the data in coarse "nice" steps (see _fit_view) rather than
        # pyqtgraph's auto-range, which changes the range, and so regenerates both axes,
        # on every frame.  Panning or zooming by hand stops following; the "A" button resumes.
        self._vb.disableAutoRange()
        self._follow = True
        self._view_box: tuple[float, float, float, float] | None = None
        self._vb.sigRangeChangedManually.connect(self._on_view_changed_manually)
        plot.autoBtn.clicked.connect(self._on_auto_button_clicked)

        self._markers = pg.VTickGroup(xvals=[], yrange=[0.0, 1.0])
        self._markers.setZValue(-5)
        plot.addItem(self._markers)
        self._hover_line = pg.InfiniteLine(angle=90, movable=False)
        self._hover_line.setVisible(False)
        self._hover_line.setZValue(20)
        plot.addItem(self._hover_line, ignoreBounds=True)
        self.legend = plot.addLegend(offset=(-4, 2), labelTextSize="8pt", horSpacing=4, verSpacing=-8)
        self._curves = {name: pg.PlotDataItem(connect="finite") for name in SERIES}
        # Wide antialiased lines are what costs when painting (~5 µs a segment), so draw few:
        # 'peak' keeps each bin's min and max, so about one bin per pixel (half a bin for the
        # smooth evaluation curves) loses nothing visible; pyqtgraph's default is 5 a pixel.
        for name, curve in self._curves.items():
            curve.opts["autoDownsampleFactor"] = 1.0 if name == "batch" else 0.5
        # Separate segments stroke about twice as fast as one wide polyline; with an opaque
        # pen the overlapping joints do not show.
        self._curves["train"].curve.setSegmentedLineMode("on")
        # The noisy mini-batch line lies under the two evaluation curves.
        for z, name in enumerate(("batch", "test", "train")):
            self._curves[name].setZValue(z)
            plot.addItem(self._curves[name])
        for name in SERIES:
            self.legend.addItem(self._curves[name], _LEGEND_NAMES[name])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)

        self.log_checkbox.toggled.connect(self._on_log_toggled)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot_widget.viewport().installEventFilter(self)
        controller.snapshotTaken.connect(self._on_controller_snapshot_taken)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._apply_theme(themes.theme)
        self._show_latest()
        if controller.snapshot is not None:
            self._on_controller_snapshot_taken(controller.snapshot)

    # ------------------------------------------------------------------------- public

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of ``"train"``, ``"test"`` or ``"batch"`` loss (copies)."""
        if name == "batch":
            return self._steps.column(0).copy(), self._steps.column(1).copy()
        x, train, test = self._evaluation_series()
        return x.copy(), (train if name == "train" else test).copy()

    def marker_steps(self) -> np.ndarray:
        """Steps of the edit markers drawn."""
        return self._marker_steps.copy()

    def readout_text(self) -> str:
        """The readout: the hovered step's values, or the latest ones."""
        return self._readout

    def image_for_export(self) -> QImage:
        """The plot (without the header) as an image."""
        return self.plot_widget.grab().toImage()

    # ----------------------------------------------------------------------- handlers

    def _on_controller_snapshot_taken(self, snap: Snapshot) -> None:
        if snap.run_id != self._run_id:
            self._run_id = snap.run_id
            self._steps.clear()
            self._evals.clear()
            self._set_markers(())
            self._dirty.update(("steps", "evals"))
        if self._apply_delta(self._steps, snap.history_steps, ("loss",)):
            self._dirty.add("steps")
        if self._apply_delta(self._evals, snap.history_evaluations, ("train_loss", "test_loss")):
            self._dirty.add("evals")
        if snap.markers is not None:
            self._set_markers(snap.markers)
        # Every snapshot measures the full-set losses now; history samples them once an
        # epoch.  The curves end at the snapshot's values, so they agree with the toolbar.
        ev = snap.evaluation
        live = (float(snap.step), _or_nan(ev.train_loss), _or_nan(ev.test_loss))
        if live != self._live:
            self._live = live
            self._dirty.add("evals")
        if self._dirty:
            self._schedule_draw()

    def _schedule_draw(self) -> None:
        """Draw now, or when ``DRAW_INTERVAL_MS`` have passed since the last draw.

        Snapshots come up to 60 times a second; a loss curve redrawn 25 times a second looks
        the same and costs less than half (stroking the curves is most of a redraw).
        """
        if self._draw_timer.isActive():
            return
        wait = DRAW_INTERVAL_MS - (time.perf_counter() - self._last_draw) * 1000.0
        if wait <= 0:
            self._draw()
        else:
            self._draw_timer.start(int(wait) + 1)

    def _draw(self) -> None:
        self._last_draw = time.perf_counter()
        dirty, self._dirty = self._dirty, set()
        if "steps" in dirty:
            self._curves["batch"].setData(self._steps.column(0), _drawable(self._steps.column(1)))
        if "evals" in dirty:
            x, train, test = self._evaluation_series()
            self._curves["train"].setData(x, _drawable(train))
            self._curves["test"].setData(x, _drawable(test))
        if "markers" in dirty:
            # One path for all markers: hundreds of edits cost one draw call.
            self._markers.setXVals(self._marker_steps.tolist())
            self._markers.update()
        self._fit_view()
        if not self._hovering:
            self._show_latest()

    @staticmethod
    def _apply_delta(buffer: _Buffer, delta: SeriesDelta, names: tuple[str, ...]) -> bool:
        """Keep the first ``delta.start`` rows (0 if ``replace``), append the new rows.

        Returns True if the buffer changed.
        """
        start = 0 if delta.replace else delta.start
        if start >= buffer.n and len(delta.rows) == 0:
            return False
        # start < n after the model downsampled its old history: those rows come again, merged.
        buffer.keep(start)
        buffer.append(_columns(delta, names))
        return True

    def _evaluation_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Recorded evaluations, plus the latest snapshot's values if they are newer."""
        x, train, test = self._evals.column(0), self._evals.column(1), self._evals.column(2)
        if self._live is not None and self._live[0] > 0 and (not len(x) or self._live[0] > x[-1]):
            step, live_train, live_test = self._live
            return np.append(x, step), np.append(train, live_train), np.append(test, live_test)
        return x, train, test

    def _fit_view(self) -> None:
        """Show every point, with limits rounded up to 1-2-5 steps so they change rarely."""
        if not self._follow:
            return
        x_hi = max(self._steps.last(0), self._evals.last(0), 10.0)  # 10: no fractional step ticks
        values = [self._steps.column(1), *self._evaluation_series()[1:]]
        finite = _drawable(np.concatenate([v[np.isfinite(v)] for v in values]))
        log = self.log_checkbox.isChecked()
        if log:
            positive = finite[finite > 0]
            if len(positive):
                y_lo = math.floor(math.log10(positive.min()))
                y_hi = math.ceil(math.log10(positive.max()))
                y_lo, y_hi = (y_lo, y_hi) if y_hi > y_lo else (y_lo - 1, y_hi)
            else:
                y_lo, y_hi = -3.0, 0.0
        else:
            y_lo = min(0.0, _nice_floor(finite.min())) if len(finite) else 0.0
            y_hi = _nice_ceiling(finite.max()) if len(finite) else 1.0
            if y_hi <= y_lo:
                y_hi = y_lo + 1.0
        box = (0.0, _nice_ceiling(x_hi), float(y_lo), float(y_hi))
        if box != self._view_box:
            self._view_box = box
            self._vb.setRange(xRange=box[:2], yRange=box[2:], padding=0.02)

    def _on_view_changed_manually(self, *_: object) -> None:
        self._follow = False
        self._view_box = None

    def _on_auto_button_clicked(self) -> None:
        self._follow = True
        self._view_box = None
        self._vb.disableAutoRange()  # the button turned pyqtgraph's own on; _fit_view rules
        self._fit_view()

    def _set_markers(self, markers: tuple[Marker, ...]) -> None:
        self._marker_steps = np.array([m.step for m in markers], dtype=np.float64)
        self._marker_texts = [m.text for m in markers]
        self._dirty.add("markers")

    def _on_log_toggled(self, checked: bool) -> None:
        # PlotDataItem maps non-positive values to NaN in log mode; connect="finite" skips them.
        self.plot_widget.getPlotItem().setLogMode(x=False, y=checked)
        self._view_box = None
        self._fit_view()

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._apply_theme(theme)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.plot_widget.viewport() and event.type() == QEvent.Type.Leave:
            self._end_hover()
        return super().eventFilter(watched, event)

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self._vb.sceneBoundingRect().contains(scene_pos):
            self._end_hover()
            return
        x = self._vb.mapSceneToView(scene_pos).x()
        self._hovering = True
        step = self._describe(x)
        if step is None:
            self._end_hover()
            return
        self._hover_line.setPos(step)
        self._hover_line.setVisible(True)

    def _end_hover(self) -> None:
        if self._hovering:
            self._hovering = False
            self._hover_line.setVisible(False)
            self._show_latest()

    # ------------------------------------------------------------------------ readout

    @staticmethod
    def _nearest(steps: np.ndarray, x: float) -> int | None:
        """Index of the entry of sorted ``steps`` nearest to x."""
        if len(steps) == 0:
            return None
        i = int(np.searchsorted(steps, x))
        if i >= len(steps):
            return len(steps) - 1
        if i > 0 and x - steps[i - 1] <= steps[i] - x:
            return i - 1
        return i

    def _values_at(self, i: int | None, j: int | None) -> tuple[float, dict[str, float]]:
        """Step and losses of step-row i and evaluation-row j (either may be None)."""
        values = {name: math.nan for name in SERIES}
        step = -math.inf
        if j is not None:
            step = float(self._evals.column(0)[j])
            values["train"] = float(self._evals.column(1)[j])
            values["test"] = float(self._evals.column(2)[j])
        if i is not None:
            step = float(self._steps.column(0)[i])
            values["batch"] = float(self._steps.column(1)[i])
        return step, values

    def _describe(self, x: float) -> float | None:
        """Show the readout for view x (nearest step's batch loss, nearest evaluation, an edit
        within ``MARKER_HOVER_PX``); return the step shown, or None if there is no data."""
        i = self._nearest(self._steps.column(0), x)
        j = self._nearest(self._evals.column(0), x)
        if i is None and j is None:
            return None
        step, values = self._values_at(i, j)
        edit = ""
        k = self._nearest(self._marker_steps, x)
        if k is not None:
            px = self._vb.viewPixelSize()[0]
            if abs(self._marker_steps[k] - x) <= MARKER_HOVER_PX * px:
                edit = self._marker_texts[k]
        self._show_values(step, values, edit)
        return step

    def _show_latest(self) -> None:
        """Readout for the newest values, when the mouse is not over the plot."""
        n, m = self._steps.n, self._evals.n
        if n == 0 and m == 0 and (self._live is None or self._live[0] == 0):
            self._show_values(None, {name: math.nan for name in SERIES}, "")
            return
        step, values = self._values_at(n - 1 if n else None, m - 1 if m else None)
        if m and n:
            step = max(step, float(self._evals.column(0)[-1]))
        if self._live is not None and self._live[0] > 0 and self._live[0] >= step:
            step, values["train"], values["test"] = self._live
        self._show_values(step, values, "")

    def _show_values(self, step: float | None, values: dict[str, float], edit: str) -> None:
        """Put the step (and edit) in the header and each loss beside its legend entry.

        The legend doubles as the readout, so the values stay readable in a narrow window.
        """
        if step is None:
            text = header = "No steps yet: press Play or Step"
        else:
            header = f"step {int(round(step)):,}"
            parts = [header] + [f"{name} {format_value(values[name])}" for name in SERIES]
            if edit:
                header += f" · edit: {edit}"
                parts.append(f"edit: {edit}")
            text = " · ".join(parts)
        if text == self._readout:
            return
        self._readout = text
        self._readout_label.setText(header)
        self._readout_label.setToolTip(text)
        # Re-laying out the legend costs a few ms; while values stream in during training,
        # refreshing them four times a second reads better than every frame anyway.
        now = time.perf_counter()
        if not self._hovering and step is not None and now - self._legend_refreshed < LEGEND_INTERVAL_S:
            return
        self._legend_refreshed = now
        for name in SERIES:
            label = self.legend.getLabel(self._curves[name])
            caption = _LEGEND_NAMES[name]
            if math.isfinite(values[name]):
                caption += f" {format_value(values[name])}"
            if label is not None and label.text != caption:
                label.setText(caption)
        self.legend.updateSize()

    # -------------------------------------------------------------------------- theme

    def _apply_theme(self, theme: Theme) -> None:
        plot = self.plot_widget.getPlotItem()
        self.plot_widget.setBackground(theme.base)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(theme.muted))
            axis.setTextPen(pg.mkPen(theme.text))
        plot.setLabel("bottom", "step", color=theme.text)
        plot.setLabel("left", "loss", color=theme.text)
        # Blue solid vs orange dashed: told apart by hue and by line style.
        test_color = theme.negative if theme.dark else VERMILLION
        self._curves["train"].setPen(pg.mkPen(theme.positive, width=2))
        # Thin and dashed: a dashed line wider than 1 px costs Qt ~5 ms to stroke at 1080p.
        test_pen = pg.mkPen(test_color, width=1, style=Qt.PenStyle.CustomDashLine)
        test_pen.setDashPattern([5.0, 3.0])
        self._curves["test"].setPen(test_pen)
        self._curves["batch"].setPen(pg.mkPen(theme.qcolor("muted", 85), width=1))
        self._markers.setPen(pg.mkPen(theme.qcolor("selection", 150), width=1))
        self._hover_line.setPen(pg.mkPen(theme.qcolor("text", 140), width=1, style=Qt.PenStyle.DotLine))
        self.legend.setBrush(pg.mkBrush(theme.qcolor("base", 170)))
        self.legend.setPen(pg.mkPen(theme.grid))
        self.legend.setLabelTextColor(theme.text)
        for _sample, label in self.legend.items:
            label.setText(label.text)  # setLabelTextColor only applies at the next setText
        self.legend.update()
        self._markers.update()
