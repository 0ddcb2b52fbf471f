"""The output view: what the network predicts, drawn over the data.

Four pictures, chosen from the snapshot's data and grid:

* ``classification2d``: the output layer over the input plane as a decision-boundary heatmap
  (P(class 1) through the diverging map for one sigmoid output; for k classes the colour of the
  most likely class, faded towards neutral where the network is unsure), with the data on top;
* ``regression2d``: the regression surface through the diverging map, symmetric about 0, with
  the points coloured by their targets through the same map;
* ``curve1d``: the fitted curve y(x) over the scatter of (x, target);
* ``predicted_vs_actual``: data with more than two raw inputs has no plane to draw, so each
  example is plotted at (actual, predicted).

Layout (plot items, colours, point positions) is rebuilt only when the run or the theme
changes; a snapshot just refreshes the image, the curve or the moving points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget
from superqt import QElidingLabel

from ..session.snapshot import Snapshot
from .controller import SessionController
from .output_focus import OutputFocus
from .plot_values import DRAWABLE_MAX, drawable, drawable_range
from .theme import Theme, ThemeManager, class_color, diverging_lut

MODES = ("classification2d", "regression2d", "curve1d", "predicted_vs_actual")

#: How far the heatmap goes from the neutral colour towards the full class colour: the data
#: points use the full colours, so a paler background keeps them readable (as in Playground).
HEATMAP_STRENGTH = 0.6
POINT_SIZE = 6.0
RING_SIZE = 12.0
#: Batches larger than this are not ringed: they would cover the plot.
MAX_RING_POINTS = 50
JITTER = 0.18

_CAPTIONS = {
    "classification2d": "Decision boundary",
    "regression2d": "Fitted surface",
    "curve1d": "Fitted curve",
    "predicted_vs_actual": "Predictions",
}


def _rgb(color: str) -> np.ndarray:
    c = QColor(color)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.float32)


def soften_lut(lut: np.ndarray, theme: Theme, strength: float = HEATMAP_STRENGTH) -> np.ndarray:
    """The LUT pulled towards the theme's neutral colour: (n, 4) uint8."""
    mid = _rgb(theme.neutral)
    out = lut.copy()
    out[:, :3] = np.clip(np.round(mid + (lut[:, :3].astype(np.float32) - mid) * strength), 0, 255)
    return out


def class_image(probs: np.ndarray, colors: np.ndarray, neutral: np.ndarray, hard: bool) -> np.ndarray:
    """RGBA uint8 image of k-class probabilities.

    Parameters
    ----------
    probs
        (R, R, k) class scores (softmax probabilities).
    colors
        (k, 3) class colours, float32.
    neutral
        (3,) the colour of "no idea".
    hard
        If True every pixel gets the full colour of its argmax class.

    Notes
    -----
    The colour is that of the most likely class c, faded towards neutral by the confidence
    ``(p_c − 1/k) / (1 − 1/k)``: 0 where all classes are equally likely, 1 where p_c = 1, so
    the boundaries (where two classes tie) show as neutral seams.
    """
    k = probs.shape[-1]
    probs = np.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0)  # a diverged network
    best = probs.argmax(axis=-1)
    if hard:
        conf = np.float32(HEATMAP_STRENGTH)
    else:
        pmax = np.take_along_axis(probs, best[..., None], axis=-1)[..., 0]
        conf = np.clip((pmax - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0).astype(np.float32) * HEATMAP_STRENGTH
        conf = conf[..., None]
    rgb = neutral + (colors[best] - neutral) * conf
    img = np.empty(probs.shape[:-1] + (4,), dtype=np.uint8)
    img[..., :3] = np.clip(rgb + 0.5, 0, 255)
    img[..., 3] = 255
    return img


def _padded(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite ``values`` (drawable ones) widened by 8 % of their span."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.08 * max(hi - lo, 1e-9)
    return lo - pad, hi + pad


class SmoothImageItem(pg.ImageItem):
    """An ImageItem scaled up with bilinear filtering, so the 80×80 grid shows no blocks.

    (TensorFlow Playground gets the same from the browser scaling its canvas.)
    """

    def paint(self, painter: QPainter, *args) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(painter, *args)


class OutputView(QWidget):
    """The network's output over the data (top right of the main window).

    Attributes
    ----------
    show_test_checkbox, discretize_checkbox
        The header's toggles.
    plot_widget
        The pyqtgraph PlotWidget.
    image_item
        The heatmap (hidden in the 1-D and predicted-vs-actual modes).
    curve_item
        The fitted curve in ``curve1d`` mode (the first curve for 1-D classification).
    mode
        One of :data:`MODES` ("" before the first snapshot).
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._snapshot: Snapshot | None = None
        self._image_rect: tuple[QRectF, int] | None = None
        self.mode = ""

        # Elides rather than widening the view when the header runs out of room (at 330 px
        # the longest caption just fits beside the two boxes).
        self._caption = QElidingLabel("Output")
        self.show_test_checkbox = QCheckBox("Show test data")
        self.show_test_checkbox.setToolTip(
            "Also draw the test examples (outlined in the text colour; training examples are not)")
        self.discretize_checkbox = QCheckBox("Discretize")
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 2, 0)
        header.setSpacing(6)
        header.addWidget(self._caption, 1)
        header.addWidget(self.show_test_checkbox)
        header.addWidget(self.discretize_checkbox)

        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(160, 160)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.layout.setContentsMargins(2, 4, 8, 2)
        self._vb = plot.getViewBox()
        self._vb.setMouseEnabled(False, False)
        self._vb.setDefaultPadding(0.02)
        tick_font = QFont(self.font())
        tick_font.setPointSizeF(max(7.0, tick_font.pointSizeF() - 1.0))
        for name in ("left", "bottom"):
            plot.getAxis(name).setStyle(tickFont=tick_font, tickLength=-4)

        self.image_item = SmoothImageItem()
        self.image_item.setOpts(axisOrder="row-major")
        self.image_item.setZValue(-10)
        plot.addItem(self.image_item)
        self._diagonal = pg.InfiniteLine(pos=(0, 0), angle=45, movable=False)
        self._half_line = pg.InfiniteLine(pos=0.5, angle=0, movable=False)
        for line in (self._diagonal, self._half_line):
            line.setZValue(-5)
            line.setVisible(False)
            plot.addItem(line)
        self.curve_item = pg.PlotDataItem(connect="finite")
        self.curve_item.setZValue(5)
        plot.addItem(self.curve_item)
        self._extra_curves: list[pg.PlotDataItem] = []
        # One scatter per class (or one for all), so a moving set of points needs one setData
        # per class with a single brush instead of a brush per point.
        self._train_items: list[pg.ScatterPlotItem] = []
        self._test_items: list[pg.ScatterPlotItem] = []
        self._ring = pg.ScatterPlotItem(symbol="o", size=RING_SIZE, pxMode=True)
        self._ring.setZValue(20)
        plot.addItem(self._ring)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)

        # Per-run state built in _rebuild.
        self._groups: list[tuple[np.ndarray, np.ndarray]] = []  # (train rows, test rows) per item
        self._jitter_train = np.zeros((0, 2))  # (x, y) jitter per point
        self._jitter_test = np.zeros((0, 2))
        self._soft_lut = np.zeros((256, 4), np.uint8)
        self._train_row_of = np.zeros(0, dtype=np.int64)  # dataset index → train row (or -1)
        self._value_range = 1.0
        self._class_rgb = np.zeros((0, 3), np.float32)
        self._neutral_rgb = np.zeros(3, np.float32)
        #: Where each training point is drawn (view coordinates), in training-row order.
        self._train_xy = np.zeros((0, 2))

        self.show_test_checkbox.toggled.connect(self._on_show_test_toggled)
        self.discretize_checkbox.toggled.connect(self._on_discretize_toggled)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)
        #: The focused example's ring, the rings of the examples driving the selected weight,
        #: and clicks that focus a point (its own module: see output_focus).
        self.focus = OutputFocus(self, controller, themes)

    # ------------------------------------------------------------------------- public

    def train_positions(self) -> np.ndarray:
        """(n_train, 2): where each training example is drawn, in training-row order."""
        return self._train_xy

    def test_points_visible(self) -> bool:
        """True when test examples are drawn (the box is checked and there are any)."""
        return any(item.isVisible() and len(item.data) for item in self._test_items)

    def point_count(self, kind: str = "train") -> int:
        """How many ``"train"`` or ``"test"`` points are drawn (0 for hidden test points)."""
        items = self._train_items if kind == "train" else self._test_items
        return sum(len(item.data) for item in items if item.isVisible())

    def image_for_export(self) -> QImage:
        """The plot (without the header) as an image."""
        return self.plot_widget.grab().toImage()

    # ----------------------------------------------------------------------- handlers

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        old = self._snapshot
        self._snapshot = snap
        # The points are placed once per run; a new dataset or output layer means a new run,
        # but checking them too costs nothing.
        if (old is None or snap.run_id != old.run_id or snap.dataset is not old.dataset
                or snap.layer_sizes != old.layer_sizes or (snap.grid is None) != (old.grid is None)):
            self._rebuild(snap)
        self._update(snap)

    def _on_themes_theme_changed(self, _theme: Theme) -> None:
        if self._snapshot is not None:
            self._rebuild(self._snapshot)
            self._update(self._snapshot)

    def _on_show_test_toggled(self, checked: bool) -> None:
        for item in self._test_items:
            item.setVisible(checked)

    def _on_discretize_toggled(self, _checked: bool) -> None:
        if self._snapshot is not None:
            self._update(self._snapshot)

    # ------------------------------------------------------------------------ layout

    @staticmethod
    def mode_for(snap: Snapshot) -> str:
        """Which picture a snapshot gets (one of :data:`MODES`)."""
        grid = snap.grid
        if grid is None:
            return "predicted_vs_actual"
        if not grid.is_2d:
            return "curve1d"
        return "classification2d" if snap.dataset.is_classification else "regression2d"

    def _rebuild(self, snap: Snapshot) -> None:
        """Recreate the plot items for a new run (or theme): colours, static points, axes."""
        theme = self._themes.theme
        ds = snap.dataset
        plot = self.plot_widget.getPlotItem()
        self.mode = mode = self.mode_for(snap)
        self._caption.setText(_CAPTIONS[mode])
        self._caption.setToolTip(_CAPTIONS[mode])
        n_out = snap.layer_sizes[-1]
        n_classes = max(ds.n_classes, n_out) if ds.is_classification else 0

        # Colours.
        self.plot_widget.setBackground(theme.base)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(theme.muted))
            axis.setTextPen(pg.mkPen(theme.text))
            axis.setTicks(None)
        self._neutral_rgb = _rgb(theme.neutral)
        self._class_rgb = np.array(
            [_rgb(class_color(k, n_classes, theme)) for k in range(max(n_classes, 1))], np.float32)
        lut = diverging_lut(theme, 256)
        self._soft_lut = soften_lut(lut, theme)
        guide_pen = pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine)
        self._diagonal.setPen(guide_pen)
        self._half_line.setPen(guide_pen)
        ring = theme.qcolor("text", 150)
        self._ring.setPen(pg.mkPen(ring, width=1.2))
        self._ring.setBrush(pg.mkBrush(None))

        # Which points go in which scatter item: per class for classification, else one group.
        targets = ds.targets
        train_idx, test_idx = ds.train_indices, ds.test_indices
        self._train_row_of = np.full(len(ds), -1, dtype=np.int64)
        self._train_row_of[train_idx] = np.arange(len(train_idx))
        if ds.is_classification:
            tr_cls, te_cls = targets[train_idx].astype(np.int64), targets[test_idx].astype(np.int64)
            self._groups = [(np.flatnonzero(tr_cls == k), np.flatnonzero(te_cls == k)) for k in range(n_classes)]
            colors = [class_color(k, n_classes, theme) for k in range(n_classes)]
        else:
            self._groups = [(np.arange(len(train_idx)), np.arange(len(test_idx)))]
            colors = [theme.positive]
        self._make_scatter_items(colors, theme)
        # Fixed jitter (seeded), so points do not dance from frame to frame.
        rng = np.random.default_rng(12345)
        self._jitter_train = rng.uniform(-JITTER, JITTER, (len(train_idx), 2))
        self._jitter_test = rng.uniform(-JITTER, JITTER, (len(test_idx), 2))
        finite = targets[np.isfinite(targets)]
        # At most DRAWABLE_MAX: the colour map's ±range and the image levels must stay finite.
        self._value_range = float(min(max(np.abs(finite).max() if len(finite) else 1.0, 1e-9), DRAWABLE_MAX))

        # Mode-specific items.
        self.image_item.setVisible(mode in ("classification2d", "regression2d"))
        self.curve_item.setVisible(mode == "curve1d")
        for c in self._extra_curves:
            plot.removeItem(c)
        self._extra_curves = []
        self._diagonal.setVisible(False)
        self._half_line.setVisible(False)
        plot.setAspectLocked(False)
        self._vb.enableAutoRange(enable=False)
        # Regression has no classes to discretize into: the option is only shown for classification.
        self.discretize_checkbox.setVisible(snap.is_classification)
        self.discretize_checkbox.setEnabled(mode == "classification2d")
        self.discretize_checkbox.setToolTip(
            "Show hard class regions (threshold 0.5 / most likely class) instead of probabilities")

        if mode in ("classification2d", "regression2d"):
            self._layout_2d(snap)
        elif mode == "curve1d":
            self._layout_1d(snap, n_classes, theme)
        else:
            self._layout_predicted_vs_actual(snap, n_classes, theme)
        for item in self._test_items:
            item.setVisible(self.show_test_checkbox.isChecked())

    def _make_scatter_items(self, colors: list[str], theme: Theme) -> None:
        plot = self.plot_widget.getPlotItem()
        for item in self._train_items + self._test_items:
            plot.removeItem(item)
        # Playground's convention: training points with a light outline, test points dark.
        # Regression points near 0 take the neutral colour (the background's), so there the
        # training points get a grey outline to stay visible.
        edge = theme.qcolor("muted", 200) if self.mode == "regression2d" else theme.qcolor("point_edge")
        train_pen = pg.mkPen(edge, width=0.8)
        test_pen = pg.mkPen(theme.text, width=1.1)
        self._train_items, self._test_items = [], []
        for color in colors:
            tr = pg.ScatterPlotItem(symbol="o", size=POINT_SIZE, pen=train_pen, brush=pg.mkBrush(color))
            te = pg.ScatterPlotItem(symbol="o", size=POINT_SIZE, pen=test_pen, brush=pg.mkBrush(color))
            tr.setZValue(10)
            te.setZValue(11)
            plot.addItem(tr)
            plot.addItem(te)
            self._train_items.append(tr)
            self._test_items.append(te)

    def _set_labels(self, bottom: str, left: str) -> None:
        plot = self.plot_widget.getPlotItem()
        color = self._themes.theme.text
        plot.setLabel("bottom", bottom, color=color)
        plot.setLabel("left", left, color=color)

    @staticmethod
    def _extent(grid) -> tuple[float, float, float, float]:
        """The grid's extent as drawable ranges (CSV data near ±1.8e308 pads to ±inf)."""
        x0, x1, y0, y1 = grid.extent
        return (*drawable_range(x0, x1), *drawable_range(y0, y1))

    def _layout_2d(self, snap: Snapshot) -> None:
        ds, grid = snap.dataset, snap.grid
        assert grid is not None
        x0, x1, y0, y1 = self._extent(grid)
        names = ds.input_names
        self._set_labels(names[0], names[1] if len(names) > 1 else "")
        r = grid.resolution
        if self.mode == "classification2d" and snap.layer_sizes[-1] == 1:
            self.image_item.setImage(np.zeros((r, r), np.float32), autoLevels=False, levels=(0.0, 1.0),
                                     lut=self._soft_lut)
        elif self.mode == "classification2d":
            self.image_item.setLookupTable(None)
            self.image_item.setImage(np.zeros((r, r, 4), np.uint8), autoLevels=False, levels=(0, 255))
        else:
            m = self._value_range
            self.image_item.setImage(np.zeros((r, r), np.float32), autoLevels=False, levels=(-m, m),
                                     lut=self._soft_lut)
        self._set_image_rect(grid)
        # Square on screen whatever the units (xScale / yScale = height / width of the extent).
        self.plot_widget.getPlotItem().setAspectLocked(True, ratio=(y1 - y0) / (x1 - x0))
        self._vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

        inputs = drawable(ds.inputs[:, :2])
        train, test = inputs[ds.train_indices], inputs[ds.test_indices]
        self._train_xy = train[:, :2]
        if self.mode == "classification2d":
            for (tr_rows, te_rows), tr_item, te_item in zip(self._groups, self._train_items, self._test_items):
                tr_item.setData(pos=train[tr_rows, :2])
                te_item.setData(pos=test[te_rows, :2])
        else:
            # Points coloured by target through the full-strength map (the surface is paler).
            lut = diverging_lut(self._themes.theme, 256)
            brushes = [pg.mkBrush(*c) for c in lut]
            m = self._value_range

            def brush_list(values: np.ndarray) -> list:
                # values / m first: values + m overflows for targets near the double's limit.
                scaled = np.nan_to_num(np.clip(values / m, -1.0, 1.0), nan=0.0)
                idx = np.clip(np.round((scaled + 1.0) / 2.0 * 255), 0, 255).astype(np.int64)
                return [brushes[i] for i in idx]

            self._train_items[0].setData(pos=train[:, :2], brush=brush_list(ds.targets[ds.train_indices]))
            self._test_items[0].setData(pos=test[:, :2], brush=brush_list(ds.targets[ds.test_indices]))

    def _layout_1d(self, snap: Snapshot, n_classes: int, theme: Theme) -> None:
        ds, grid = snap.dataset, snap.grid
        assert grid is not None
        x0, x1 = self._extent(grid)[:2]
        plot = self.plot_widget.getPlotItem()
        self.curve_item.setPen(pg.mkPen(theme.text, width=2.2))
        x_train = drawable(ds.inputs[ds.train_indices, 0])
        x_test = drawable(ds.inputs[ds.test_indices, 0])
        if ds.is_classification:
            # One probability curve per output; each point sits where its class's curve should
            # reach: at its label (0/1) for one output, at 1 for k outputs.
            self._set_labels(ds.input_names[0], "probability")
            n_out = snap.layer_sizes[-1]
            self.curve_item.setPen(pg.mkPen(class_color(1 if n_out == 1 else 0, n_classes, theme), width=2.2))
            for k in range(1, n_out):
                c = pg.PlotDataItem(pen=pg.mkPen(class_color(k, n_classes, theme), width=2.2), connect="finite")
                c.setZValue(5)
                plot.addItem(c)
                self._extra_curves.append(c)
            if n_out == 1:
                self._half_line.setVisible(True)
            for (tr_rows, te_rows), tr_item, te_item in zip(self._groups, self._train_items, self._test_items):
                y_tr = ds.targets[ds.train_indices][tr_rows] if n_out == 1 else np.ones(len(tr_rows))
                y_te = ds.targets[ds.test_indices][te_rows] if n_out == 1 else np.ones(len(te_rows))
                tr_item.setData(x=x_train[tr_rows], y=y_tr)
                te_item.setData(x=x_test[te_rows], y=y_te)
            y_all = ds.targets[ds.train_indices] if n_out == 1 else np.ones(len(x_train))
            self._train_xy = np.column_stack([x_train, y_all])
            y_lo, y_hi = -0.05, 1.05
        else:
            self._set_labels(ds.input_names[0], ds.target_name)
            t = drawable(ds.targets)
            self._train_items[0].setData(x=x_train, y=t[ds.train_indices])
            self._train_xy = np.column_stack([x_train, t[ds.train_indices]])
            self._test_items[0].setData(x=x_test, y=t[ds.test_indices])
            y_lo, y_hi = _padded(t)
        self._vb.setRange(xRange=(x0, x1), yRange=drawable_range(y_lo, y_hi), padding=0.0)

    def _layout_predicted_vs_actual(self, snap: Snapshot, n_classes: int, theme: Theme) -> None:
        ds = snap.dataset
        plot = self.plot_widget.getPlotItem()
        if not ds.is_classification:
            name = ds.target_name
            self._set_labels(f"actual {name}", f"predicted {name}")
            self._diagonal.setVisible(True)
            lo, hi = drawable_range(*_padded(drawable(ds.targets)))
            plot.setAspectLocked(True, ratio=1.0)
            self._vb.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.0)
            return
        ticks = [[(k, name) for k, name in enumerate(ds.class_names)]]
        plot.getAxis("bottom").setTicks(ticks)
        names = ds.class_names
        if snap.layer_sizes[-1] == 1:
            self._set_labels("actual class", f"P(class {names[1] if len(names) > 1 else 1})")
            self._half_line.setVisible(True)
            self._vb.setRange(xRange=(-0.5, 1.5), yRange=(-0.05, 1.05), padding=0.0)
        else:
            self._set_labels("actual class", "predicted class")
            plot.getAxis("left").setTicks(ticks)
            self._vb.setRange(xRange=(-0.5, n_classes - 0.5), yRange=(-0.5, n_classes - 0.5), padding=0.0)

    # ------------------------------------------------------------------------ per frame

    def _set_image_rect(self, grid) -> None:
        """Grid values sit at pixel centres: the image spans half a cell beyond the extent.

        Set with every image: the worker sends a coarser grid while playing than when paused.
        """
        x0, x1, y0, y1 = self._extent(grid)
        r = grid.resolution
        dx, dy = (x1 - x0) / max(r - 1, 1), (y1 - y0) / max(r - 1, 1)
        rect = QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy)
        # The rect becomes a scale of the image's pixels, so a new resolution needs it again.
        if (rect, r) != self._image_rect:
            self._image_rect = (rect, r)
            self.image_item.setRect(rect)

    def _update(self, snap: Snapshot) -> None:
        """Refresh what changes with the weights: the image, curves, moving points, the ring."""
        mode = self.mode
        hard = self.discretize_checkbox.isChecked() and mode == "classification2d"
        ring = np.zeros((0, 2))
        ds = snap.dataset
        batch = snap.batch_indices
        # A full batch is every training point, and a big one covers the plot: ringing them
        # says nothing, so only small batches are marked.
        show_ring = 0 < len(batch) < len(ds.train_indices) and len(batch) <= MAX_RING_POINTS
        if mode in ("classification2d", "regression2d"):
            grid = snap.grid
            r = grid.resolution
            out = grid.activations[-1]
            if out.shape[1] == 1:
                values = out[:, 0].reshape(r, r)
                if hard:
                    if mode == "classification2d":
                        values = (values > 0.5).astype(np.float32)
                    else:
                        values = np.where(values >= 0, self._value_range, -self._value_range)
                self.image_item.setImage(self._image_values(values), autoLevels=False)
            else:
                probs = out.reshape(r, r, out.shape[1])
                self.image_item.setImage(class_image(probs, self._class_rgb, self._neutral_rgb, hard),
                                         autoLevels=False)
            self._set_image_rect(grid)
            if show_ring:
                ring = ds.inputs[batch, :2]
        elif mode == "curve1d":
            grid = snap.grid
            x0, x1 = self._extent(grid)[:2]
            out = drawable(grid.activations[-1])
            xs = np.linspace(x0, x1, len(out))
            self.curve_item.setData(xs, out[:, 0])
            for k, c in enumerate(self._extra_curves, start=1):
                c.setData(xs, out[:, k])
            if show_ring:
                # Where the points are drawn: at their target, or at 1 for k-class curves.
                at_target = not ds.is_classification or snap.layer_sizes[-1] == 1
                y = ds.targets[batch] if at_target else np.ones(len(batch))
                ring = np.column_stack([ds.inputs[batch, 0], y])
        else:
            ring = self._update_predicted_vs_actual(snap, batch if show_ring else None)
        self._ring.setData(pos=drawable(ring))

    def _image_values(self, values: np.ndarray) -> np.ndarray:
        """One-output grid values as the heatmap's float32 image.

        float32 ends at 3.4e38: a regression surface beyond that (a diverged network, or
        targets near 1e308) is clipped to the colour map's ±range first, so it saturates
        instead of turning into inf.
        """
        if self.mode == "regression2d":
            m = self._value_range
            if m > float(np.finfo(np.float32).max) or not np.isfinite(values).all():
                values = np.clip(values, -m, m)
        return np.ascontiguousarray(values, dtype=np.float32)

    def _pva_xy(self, snap: Snapshot, outputs: np.ndarray, indices: np.ndarray, jitter: np.ndarray):
        """(x, y) of predicted-vs-actual points for dataset rows ``indices``."""
        ds = snap.dataset
        actual = ds.targets[indices]
        if not ds.is_classification:
            return drawable(actual), drawable(outputs[:, 0])
        if outputs.shape[1] == 1:
            return actual + jitter[:, 0], drawable(outputs[:, 0])
        return actual + jitter[:, 0], outputs.argmax(axis=1) + jitter[:, 1]

    def _update_predicted_vs_actual(self, snap: Snapshot, batch: np.ndarray | None) -> np.ndarray:
        ds = snap.dataset
        xt, yt = self._pva_xy(snap, snap.train_outputs, ds.train_indices, self._jitter_train)
        xs, ys = self._pva_xy(snap, snap.test_outputs, ds.test_indices, self._jitter_test)
        self._train_xy = np.column_stack([xt, yt])
        for (tr_rows, te_rows), tr_item, te_item in zip(self._groups, self._train_items, self._test_items):
            tr_item.setData(x=xt[tr_rows], y=yt[tr_rows])
            te_item.setData(x=xs[te_rows], y=ys[te_rows])
        if batch is None:
            return np.zeros((0, 2))
        rows = self._train_row_of[batch]
        rows = rows[rows >= 0]
        return np.column_stack([xt[rows], yt[rows]])
