"""The loss plot: train, test and mini-batch loss against step, with a marker at every edit.

The curves are drawn from the controller's one copy of the history
(:class:`~sandbox.session.history_mirror.HistoryMirror`), which every snapshot the worker hands
over extends (``snapshotTaken``, so a snapshot the GUI dropped as stale still contributes its
rows).  The legend sits under the plot, never over the curves, and names what each figure is:
the full-set loss (train / test set) or the last mini-batch's loss.  Between two recorded
evaluations the train and test curves end at the newest snapshot's full-set losses: the same
numbers, in the same format, as the toolbar shows.  The readout (the hovered step, or an edit's
text) has a row of its own, so nothing cuts it short.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget
from superqt import QElidingLabel

from ..formatting import format_number
from ..session.history import Marker
from ..session.snapshot import Snapshot
from .controller import SessionController
from .plot_style import theme_axes, tick_font
from .plot_values import drawable as _drawable
from .plot_values import drawable_range
from .run_overlays import RunOverlays
from .step_mark import ShownStepMark, StepMark
from .theme import VERMILLION, Theme, ThemeManager

SERIES = ("train", "test", "batch")
#: What each curve is, as the legend names it.
LEGEND_NAMES = {"train": "train set", "test": "test set", "batch": "mini-batch"}
LEGEND_TIPS = {
    "train": "Loss over the whole training set (no L1/L2 penalty), evaluated every epoch and at the "
             "newest snapshot. The toolbar shows the same figure.",
    "test": "Loss over the whole test set (no L1/L2 penalty), evaluated like the training-set loss.",
    "batch": "The loss of each step's mini-batch, before that step's update: noisy, and not a "
             "full-set figure.",
}
#: How close (in pixels) the mouse must be to a marker for its text to show.
MARKER_HOVER_PX = 5.0

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


class _FixedHost(QWidget):
    """Holds a label outside any layout, at a fixed height.

    The label's text changes with every draw, and a label in a layout asks its ancestors to
    relayout on every text change, which would relayout the whole main window each frame.  Here
    the label just fills this widget, whose own size never depends on the text.
    """

    def __init__(self, label: QLabel, lines: int = 1) -> None:
        super().__init__()
        self.label = label
        label.setParent(self)
        self.setFixedHeight(lines * label.fontMetrics().height() + 6)
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
    legend_labels
        One label per series under the plot: its colour, what it is, and its value.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._history = controller.history
        self._themes = themes
        self._marker_steps = np.zeros(0)
        self._marker_texts: list[str] = []
        self._hovering = False
        self._readout = ""
        self._legend_values: dict[str, str] = {}
        self._live: tuple[float, float, float] | None = None  # step, train, test of the newest snapshot

        self._readout_label = QElidingLabel()
        self._readout_label.setTextFormat(Qt.TextFormat.PlainText)
        self._readout_label.setContentsMargins(4, 0, 4, 0)

        self.plot_widget = pg.PlotWidget()
        # 76, not 120: in its tab the tab bar takes ~30 px and the history scrubber ~24 under it,
        # and the window keeps its minimum height (a 1000×700 screenshot fits).
        self.plot_widget.setMinimumSize(160, 76)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.layout.setContentsMargins(2, 6, 8, 2)  # room for the top tick label
        # Long runs: draw at most a few points per pixel, and only what is in view.
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        ticks = tick_font(self.font())
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setStyle(tickFont=ticks, tickLength=-4)
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
        self._rise_mark = StepMark(plot)
        self._shown_mark = ShownStepMark(plot)
        self.overlays = RunOverlays(plot)
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

        # Under the plot: the legend (never over the curves) and the log-scale box, in two
        # rows so that every entry keeps its words and figure in a narrow window.
        self.legend_labels: dict[str, QLabel] = {}
        footer = QGridLayout()
        footer.setContentsMargins(4, 0, 4, 0)
        footer.setHorizontalSpacing(10)
        footer.setVerticalSpacing(0)
        for k, name in enumerate(SERIES):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setToolTip(LEGEND_TIPS[name])
            self.legend_labels[name] = label
            footer.addWidget(_FixedHost(label), k // 2, k % 2)
        #: The earlier runs under the legend: what each differed in (see run_overlays).
        self.runs_label = QLabel()
        self.runs_label.setTextFormat(Qt.TextFormat.RichText)
        self._runs_host = _FixedHost(self.runs_label)
        self._runs_host.setVisible(False)
        footer.addWidget(self._runs_host, 2, 0, 1, 2)
        self.log_checkbox = QCheckBox("Log scale")
        self.log_checkbox.setToolTip("Logarithmic loss axis (zero and negative values are left out)")
        footer.addWidget(self.log_checkbox, 1, 1, Qt.AlignmentFlag.AlignRight)
        footer.setColumnStretch(0, 1)
        footer.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(_FixedHost(self._readout_label))
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(footer)

        self.log_checkbox.toggled.connect(self._on_log_toggled)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        controller.view_state.events.time_cursor.connect(self._on_view_state_time_cursor)
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
            steps = self._history.steps
            return steps.steps.copy(), steps.column("loss").copy()
        x, train, test = self._evaluation_series()
        return x.copy(), (train if name == "train" else test).copy()

    def marker_steps(self) -> np.ndarray:
        """Steps of the edit markers drawn."""
        return self._marker_steps.copy()

    def readout_text(self) -> str:
        """The readout row and the legend's figures: the hovered step's values, or the latest."""
        return " · ".join([self._readout] + [self.legend_text(name) for name in SERIES])

    def legend_text(self, name: str) -> str:
        """What the legend says for ``"train"``, ``"test"`` or ``"batch"`` (plain text)."""
        value = self._legend_values.get(name, "")
        return f"{LEGEND_NAMES[name]} {value}".strip()

    def mark_divergence(self, step: int | None) -> None:
        """Mark the step where the loss began to rise before a divergence (None: no mark)."""
        self._rise_mark.set_step(step)

    def divergence_mark(self) -> int | None:
        """The step marked as where the loss began to rise, or None."""
        return self._rise_mark.step

    def shown_step(self) -> int | None:
        """The step the shown-step line marks (None at the live end)."""
        return self._shown_mark.step

    def step_at(self, x: float) -> int | None:
        """The recorded step nearest to view x (None with no history): what a click shows."""
        steps = self._history.steps.steps
        i = self._nearest(steps, x)
        return None if i is None else int(round(float(steps[i])))

    def image_for_export(self) -> QImage:
        """The plot (without the header) as an image."""
        return self.plot_widget.grab().toImage()

    # ----------------------------------------------------------------------- handlers

    def _on_controller_snapshot_taken(self, snap: Snapshot) -> None:
        # The controller has applied this snapshot's rows to its history already.
        changed = self._controller.history_changes
        if "steps" in changed:
            steps = self._history.steps
            self._rise_mark.follow(float(steps.steps[-1]) if len(steps) else None)
        if "markers" in changed:
            self._set_markers(self._history.markers)
        # Every snapshot measures the full-set losses now; history samples them once an
        # epoch.  The curves end at the snapshot's values, so they agree with the toolbar.
        ev = snap.evaluation
        live = (float(snap.step), _or_nan(ev.train_loss), _or_nan(ev.test_loss))
        if live != self._live:
            self._live = live
            changed = changed | {"evaluations"}
        workspace = snap.workspace
        if self.overlays.update(None if workspace is None else workspace.runs, self._train_curve()):
            self._show_runs_legend()
            self._view_box = None
            changed = changed | {"runs"}
        if changed:
            self._draw(changed)

    def _train_curve(self) -> tuple[np.ndarray, np.ndarray]:
        x, train, _test = self._evaluation_series()
        return x, train

    def _show_runs_legend(self) -> None:
        html = self.overlays.legend_html(self._themes.theme)
        self._runs_host.setVisible(bool(html))
        self.runs_label.setText(html)
        self._runs_host.setToolTip(self.overlays.legend_tooltip())

    def _on_view_state_time_cursor(self, step: int | None, old: int | None = None) -> None:
        self._shown_mark.set_step(step)

    def _on_scene_mouse_clicked(self, event) -> None:
        """A click in the plot shows that step (the history scrubber follows); a click past the
        newest step goes back to the live end."""
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if not self._vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = self._vb.mapSceneToView(event.scenePos()).x()
        steps = self._history.steps.steps
        if not len(steps):
            return
        step = self.step_at(x)
        if step is None:
            return
        event.accept()
        self._controller.scrub(step if x <= steps[-1] else int(steps[-1]) + 1)

    def _draw(self, changed: set[str]) -> None:
        if "steps" in changed:
            steps = self._history.steps
            self._curves["batch"].setData(steps.steps, _drawable(steps.column("loss")))
        if "evaluations" in changed:
            x, train, test = self._evaluation_series()
            self._curves["train"].setData(x, _drawable(train))
            self._curves["test"].setData(x, _drawable(test))
        if "markers" in changed:
            # One path for all markers: hundreds of edits cost one draw call.
            self._markers.setXVals(self._marker_steps.tolist())
            self._markers.update()
        self._fit_view()
        if not self._hovering:
            self._show_latest()

    def _evaluation_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Recorded evaluations, plus the latest snapshot's values if they are newer."""
        evals = self._history.evaluations
        x, train, test = evals.steps, evals.column("train_loss"), evals.column("test_loss")
        if self._live is not None and self._live[0] > 0 and (not len(x) or self._live[0] > x[-1]):
            step, live_train, live_test = self._live
            return np.append(x, step), np.append(train, live_train), np.append(test, live_test)
        return x, train, test

    def _fit_view(self) -> None:
        """Show every point, with limits rounded up to 1-2-5 steps so they change rarely."""
        if not self._follow:
            return
        steps = self._history.steps
        x_eval = self._evaluation_series()[0]
        x_hi = max(float(steps.steps[-1]) if len(steps) else 0.0,
                   float(x_eval[-1]) if len(x_eval) else 0.0, 10.0)  # 10: no fractional step ticks
        values = [steps.column("loss"), *self._evaluation_series()[1:]]
        for x_run, y_run in self.overlays.drawn.values():
            if len(x_run):
                x_hi = max(x_hi, float(x_run[-1]))
            values.append(y_run)
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
        box = (0.0, _nice_ceiling(x_hi), *drawable_range(float(y_lo), float(y_hi)))
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
        evals, steps = self._history.evaluations, self._history.steps
        if j is not None:
            step = float(evals.steps[j])
            values["train"] = float(evals.column("train_loss")[j])
            values["test"] = float(evals.column("test_loss")[j])
        if i is not None:
            step = float(steps.steps[i])
            values["batch"] = float(steps.column("loss")[i])
        return step, values

    def _describe(self, x: float) -> float | None:
        """Show the readout for view x (nearest step's batch loss, nearest evaluation, an edit
        within ``MARKER_HOVER_PX``); return the step shown, or None if there is no data."""
        i = self._nearest(self._history.steps.steps, x)
        j = self._nearest(self._history.evaluations.steps, x)
        if i is None and j is None:
            return None
        step, values = self._values_at(i, j)
        edit = ""
        k = self._nearest(self._marker_steps, x)
        if k is not None:
            px = self._vb.viewPixelSize()[0]
            if abs(self._marker_steps[k] - x) <= MARKER_HOVER_PX * px:
                edit = self._marker_texts[k]
                step = float(self._marker_steps[k])
        self._show_values(step, values, edit)
        return step

    def _show_latest(self) -> None:
        """Readout for the newest values, when the mouse is not over the plot."""
        n, m = len(self._history.steps), len(self._history.evaluations)
        if n == 0 and m == 0 and (self._live is None or self._live[0] == 0):
            values = {name: math.nan for name in SERIES}
            if self._live is not None:
                values["train"], values["test"] = self._live[1], self._live[2]
            self._show_values(None, values, "")
            return
        step, values = self._values_at(n - 1 if n else None, m - 1 if m else None)
        if m and n:
            step = max(step, float(self._history.evaluations.steps[-1]))
        if self._live is not None and self._live[0] > 0 and self._live[0] >= step:
            step, values["train"], values["test"] = self._live
        self._show_values(step, values, "")

    def _show_values(self, step: float | None, values: dict[str, float], edit: str) -> None:
        """The step (or the hovered edit) in the readout row, each loss in its legend entry."""
        if step is None:
            text = "No steps yet: press Play or Step"
        elif edit:
            text = f"edit at step {int(round(step)):,}: {edit}"
        else:
            text = f"step {int(round(step)):,}"
        if text != self._readout:
            self._readout = text
            self._readout_label.setText(text)
            self._readout_label.setToolTip(text)
        for name in SERIES:
            value = values[name]
            shown = "" if math.isnan(value) and name != "train" else format_number(value)
            if self._legend_values.get(name) != shown:
                self._legend_values[name] = shown
                self._paint_legend(name)

    def _paint_legend(self, name: str) -> None:
        theme = self._themes.theme
        colour = {"train": theme.positive, "test": self._test_colour(theme), "batch": theme.muted}[name]
        swatch = "\u2501\u2501" if name != "test" else "\u254d\u254d"
        value = self._legend_values.get(name, "")
        self.legend_labels[name].setText(
            f"<span style='color:{colour}'>{swatch}</span> {LEGEND_NAMES[name]} <b>{value}</b>")

    # -------------------------------------------------------------------------- theme

    @staticmethod
    def _test_colour(theme: Theme) -> str:
        return theme.negative if theme.dark else VERMILLION

    def _apply_theme(self, theme: Theme) -> None:
        plot = self.plot_widget.getPlotItem()
        theme_axes(self.plot_widget, theme)
        plot.setLabel("bottom", "step", color=theme.text)
        plot.setLabel("left", "loss", color=theme.text)
        # Blue solid vs orange dashed: told apart by hue and by line style.
        self._curves["train"].setPen(pg.mkPen(theme.positive, width=2))
        # Thin and dashed: a dashed line wider than 1 px costs Qt ~5 ms to stroke at 1080p.
        test_pen = pg.mkPen(self._test_colour(theme), width=1, style=Qt.PenStyle.CustomDashLine)
        test_pen.setDashPattern([5.0, 3.0])
        self._curves["test"].setPen(test_pen)
        self._curves["batch"].setPen(pg.mkPen(theme.qcolor("muted", 85), width=1))
        self._markers.setPen(pg.mkPen(theme.qcolor("selection", 150), width=1))
        self._hover_line.setPen(pg.mkPen(theme.qcolor("text", 140), width=1, style=Qt.PenStyle.DotLine))
        self._rise_mark.apply_theme(theme)
        self._shown_mark.apply_theme(theme)
        self.overlays.apply_theme(theme)
        for name in SERIES:
            self._paint_legend(name)
        self._markers.update()
