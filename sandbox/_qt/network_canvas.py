"""The network canvas: every neuron, every connection, and the blame that flows through them.

One column per activation layer (input features, hidden layers, output).  Each node shows what
it computes over the input plane (a heatmap for 2-D data, a curve for 1-D data, a plain colour
otherwise) and a small bar for its bias; each connection is coloured by the sign and sized by
the magnitude of the weight, its gradient ∂J/∂w, or the last applied update Δw.

Drawing is built for 60 snapshots a second on networks of ~2000 connections:

* geometry (node rectangles, connection polylines) is computed only when the architecture or
  the widget size changes;
* per snapshot, connections are bucketed by (sign, magnitude level); each bucket is one numpy
  array of line segments that a single ``QPainter.drawLines`` call draws straight from memory
  (opaque pens with square caps: Qt's fast path for wide antialiased lines, ~10× cheaper than
  stroking paths or translucent pens), so Qt sees a handful of calls, not thousands of items;
* all heatmaps are built at once with numpy (one LUT gather for every neuron) into a single
  atlas image, which the one custom graphics item draws tile by tile.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from html import escape

import numpy as np
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyleOptionGraphicsItem,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import wrapInstance
from superqt import QElidingLabel

from ..session.snapshot import Snapshot
from ..session.naming import NeuronRef, Ref, WeightRef
from .controller import SessionController
from .names import unit_name, weight_name
from .theme import Theme, ThemeManager, diverging_lut

Array = np.ndarray

VIEW_MODES = ("weights", "gradients", "updates")
PHASES = ("forward", "backward", "update")

#: Output ranges of bounded activations; every other activation gets a symmetric range
#: from the layer's largest |value| (see :func:`layer_levels`).
BOUNDED_RANGES: dict[str, tuple[float, float]] = {
    "tanh": (-1.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "sine": (-1.0, 1.0),
}

MIN_NODE = 22  # px: below this a heatmap stops being readable, so we scroll instead
MAX_NODE = 88  # px: beyond this nodes only eat room the connections need
MIN_SAMPLES, MAX_SAMPLES = 7, 20  # points per connection polyline, more for longer curves
WIDTH_LEVELS = 10  # magnitude buckets per sign
MIN_WIDTH, MAX_WIDTH = 0.5, 6.0  # px
LUT_SIZE = 256
MAX_TILE = 48  # px: heatmap tiles never need more resolution (the fields are smooth)
MARGIN = 10


def format_value(value: float | None) -> str:
    """A number as the canvas shows it: signed, 4 significant digits ("—" for none)."""
    if value is None:
        return "—"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:+.4g}"


def layer_levels(activation: str | None, abs_max: float) -> tuple[float, float]:
    """Colour range of a layer's heatmaps.

    Bounded activations use their output range, so a saturated tanh always looks saturated;
    unbounded ones (and input features, ``activation=None``) use ``[-m, m]`` with ``m`` the
    largest |value|, so zero stays the neutral colour.
    """
    if activation in BOUNDED_RANGES:
        return BOUNDED_RANGES[activation]
    m = abs_max if math.isfinite(abs_max) and abs_max > 0 else 1.0
    return (-m, m)


def blend(color: str, background: str, alpha: float) -> QColor:
    """``color`` at opacity ``alpha`` over ``background``, as an opaque colour.

    Qt's raster engine strokes opaque antialiased lines about ten times faster than
    translucent ones, so the connections are drawn in pre-blended opaque colours.
    """
    a, b = QColor(color), QColor(background)
    return QColor.fromRgbF(b.redF() + (a.redF() - b.redF()) * alpha,
                           b.greenF() + (a.greenF() - b.greenF()) * alpha,
                           b.blueF() + (a.blueF() - b.blueF()) * alpha)


def just_ran_phase(snapshot: Snapshot | None) -> str:
    """Which phase of the current step ran last: "forward", "backward", "update" or ""."""
    if snapshot is None:
        return ""
    return snapshot.last_phase or ""


# ------------------------------------------------------------------------------- geometry


@dataclass
class _Layout:
    """Everything positional, in scene coordinates; rebuilt on resize or a new architecture."""

    sizes: tuple[int, ...]
    samples: int  # points per connection polyline
    max_width: float  # px: the widest connection (narrower when many share a node)
    node: float  # node side, px
    gap: float  # vertical gap between nodes, px
    offsets: Array  # start of each layer in the flat node arrays, (L+2,)
    node_x: Array  # left of each node, (N,)
    node_y: Array  # top of each node, (N,)
    col_x: Array  # left of each column, (L+1,)
    conn_offsets: Array  # start of each weight layer in the flat connection arrays, (L+1,)
    conn_x: Array  # (C, P) polyline points
    conn_y: Array
    segments: Array  # (C, P-1, 4) float64: each polyline as line segments x0, y0, x1, y1
    headers: list[tuple[QRectF, str, str]]
    legend: QRectF
    labels: list[tuple[QRectF, str, Qt.AlignmentFlag]]
    width: float
    height: float
    border_path: QPainterPath = field(default_factory=QPainterPath)
    bias_tracks: QPainterPath = field(default_factory=QPainterPath)  # a faint line under each biased node

    def node_rect(self, k: int) -> QRectF:
        return QRectF(float(self.node_x[k]), float(self.node_y[k]), self.node, self.node)


def s_curve_samples(x0: Array, y0: Array, x1: Array, y1: Array, n: int) -> tuple[Array, Array]:
    """Points of the S-curves from (x0, y0) to (x1, y1), (C, n) each.

    ``y = y0 + (y1 − y0)·(3s² − 2s³)`` at ``x = x0 + (x1 − x0)·s`` (a cubic with zero slope at
    both ends, so every curve leaves and enters its nodes horizontally, as in Playground).
    Sampling uniformly in x spreads the few points we can afford evenly along the curve.
    """
    s = np.linspace(0.0, 1.0, n)[None, :]
    x = x0[:, None] + (x1 - x0)[:, None] * s
    y = y0[:, None] + (y1 - y0)[:, None] * (s * s * (3.0 - 2.0 * s))
    return x, y


# ------------------------------------------------------------------------- graphics parts


class _NetworkItem(QGraphicsItem):
    """One item paints the whole network (far cheaper than an item per node or connection)."""

    def __init__(self, canvas: "NetworkCanvas") -> None:
        super().__init__()
        self._canvas = canvas
        self._rect = QRectF()

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = rect

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        self._canvas._paint(painter)


class _CanvasView(QGraphicsView):
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


class PhaseStrip(QWidget):
    """"forward → backward → update": which phase of the current step ran last.

    Each chip has a state: ``"ran"`` (the phase that just ran, strongly highlighted),
    ``"done"`` (ran earlier in this step), ``"next"`` (runs on the next phase step) or ``""``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self._chips: list[QLabel] = []
        self._arrows: list[QLabel] = []
        for k, name in enumerate(PHASES):
            if k:
                arrow = QLabel("→")
                self._arrows.append(arrow)
                layout.addWidget(arrow)
            chip = QLabel(name)
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setObjectName(f"phase_{name}")
            self._chips.append(chip)
            layout.addWidget(chip)
        self._states: tuple[str, ...] = ("",) * len(PHASES)
        self._theme: Theme | None = None
        self.setToolTip("Which phase of the current training step ran last (Step phase runs the next one)")

    def states(self) -> tuple[str, ...]:
        return self._states

    def text(self) -> str:
        return " → ".join(PHASES)

    def highlighted(self) -> str:
        """The phase that just ran, or ""."""
        return next((p for p, s in zip(PHASES, self._states) if s == "ran"), "")

    def set_phase(self, ran: str) -> None:
        """Show that ``ran`` ("forward", "backward", "update" or "") just ran."""
        if ran == "update":
            states = ("done", "done", "ran")
        elif ran in PHASES:
            k = PHASES.index(ran)
            states = tuple("done" if i < k else "ran" if i == k else "next" if i == k + 1 else ""
                           for i in range(len(PHASES)))
        else:
            states = ("next", "", "")
        if states != self._states:
            self._states = states
            self._restyle()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def _restyle(self) -> None:
        t = self._theme
        if t is None:
            return
        accent = QColor(t.accent)
        soft = f"rgba({accent.red()},{accent.green()},{accent.blue()},60)"
        base = "border-radius: 3px; padding: 1px 6px;"
        styles = {
            "ran": f"{base} background: {t.accent}; color: {'#101014' if t.dark else '#ffffff'}; font-weight: bold;"
                   f" border: 1px solid {t.accent};",
            "done": f"{base} background: {soft}; color: {t.text}; border: 1px solid transparent;",
            "next": f"{base} color: {t.accent}; border: 1px dashed {t.accent};",
            "": f"{base} color: {t.muted}; border: 1px solid transparent;",
        }
        for chip, state in zip(self._chips, self._states):
            chip.setStyleSheet(f"QLabel {{ {styles[state]} }}")
        for arrow in self._arrows:
            arrow.setStyleSheet(f"QLabel {{ color: {t.muted}; }}")


# ---------------------------------------------------------------------------------- canvas


@dataclass
class _Frame:
    """What one snapshot draws (built in :meth:`NetworkCanvas._build_frame`)."""

    conn_lines: list[tuple[QPen, Array]] = field(default_factory=list)  # (n, 4) segments per pen
    legend: str = ""
    conn_width: Array | None = None  # per connection, px
    conn_color: Array | None = None  # per connection: 1 positive, -1 negative, 0 neutral
    node_image: QImage | None = None  # atlas of every node's heatmap (2-D) or colour strip (1-D)
    node_pixels: Array | None = None  # the atlas's memory (QImage does not own it)
    tile: int = 0  # atlas tile height (2-D: r, 1-D: 1)
    tile_width: int = 0
    curves: QPainterPath | None = None  # 1-D: every node's curve
    zero_lines: QPainterPath | None = None
    node_fill: list[QColor] | None = None  # >2 inputs: plain colours
    halos: list[tuple[QRectF, QColor]] = field(default_factory=list)
    bias_rects: tuple[list[QRectF], list[QRectF]] = ((), ())  # type: ignore[assignment]


class NetworkCanvas(QWidget):
    """The network: nodes with their heatmaps, connections coloured by w, ∂J/∂w or Δw.

    Parameters
    ----------
    controller
        The session controller (snapshots in, selections and nothing else out).
    themes
        The theme manager; the canvas recolours on ``themeChanged``.

    Signals
    -------
    viewModeChanged(str)
        "weights", "gradients" or "updates".
    """

    viewModeChanged = Signal(str)

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._theme: Theme = themes.theme
        self._view_mode = "weights"
        self._snapshot: Snapshot | None = None
        self._layout: _Layout | None = None
        self._layout_key: tuple | None = None
        self._frame = _Frame()
        self._hover: tuple | None = None  # ("neuron", layer, unit) or ("weight", layer, i, j)
        self._hover_text = ""
        self._hover_global = QPoint()
        self._relayouting = False
        self._input_scale: tuple[object, Array | None] = (None, None)
        #: Python time of the last snapshot handler, ms (for benchmarks).
        self.frame_ms = 0.0

        self._build_widgets()
        self._apply_theme(self._theme)

        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        controller.selectionChanged.connect(self._on_controller_selection_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)

    # ------------------------------------------------------------------------ widgets

    def _build_widgets(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        bar = QWidget(self)
        bar.setObjectName("canvasBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 5, 8, 3)
        row.setSpacing(8)
        segments = QHBoxLayout()
        segments.setSpacing(0)
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(True)
        self.mode_buttons: dict[str, QToolButton] = {}
        tips = {
            "weights": "Connections show the weights w",
            "gradients": "Connections show the blame ∂J/∂w; neurons glow with their mean |δ|",
            "updates": "Connections show the change Δw the last step applied",
        }
        for k, mode in enumerate(VIEW_MODES):
            button = QToolButton(bar)
            button.setText(mode.capitalize())
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            button.setObjectName(f"seg_{'first' if k == 0 else 'last' if k == len(VIEW_MODES) - 1 else 'mid'}")
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            self._mode_group.addButton(button, k)
            self.mode_buttons[mode] = button
            segments.addWidget(button)
        self.mode_buttons["weights"].setChecked(True)
        self._mode_group.idClicked.connect(self._on_mode_group_id_clicked)
        row.addLayout(segments)

        self._caption = QElidingLabel("", bar)
        self._caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._caption.setMinimumWidth(20)
        row.addWidget(self._caption, 1)

        self.phase_strip = PhaseStrip(bar)
        row.addWidget(self.phase_strip)
        outer.addWidget(bar)

        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._item = _NetworkItem(self)
        self._scene.addItem(self._item)
        self.view = _CanvasView(self._scene, self)
        outer.addWidget(self.view, 1)
        self.view.pointerMoved.connect(self._on_view_pointer_moved)
        self.view.pointerPressed.connect(self._on_view_pointer_pressed)
        self.view.pointerLeft.connect(self._on_view_pointer_left)
        self.view.viewportResized.connect(self._on_view_viewport_resized)
        self._bar = bar

    def sizeHint(self) -> QSize:
        return QSize(700, 480)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 220)

    # ------------------------------------------------------------------------ public API

    @property
    def view_mode(self) -> str:
        """"weights", "gradients" or "updates": what the connections show."""
        return self._view_mode

    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode must be one of {VIEW_MODES}, got {mode!r}")
        button = self.mode_buttons[mode]
        if not button.isChecked():
            blocked = button.blockSignals(True)
            button.setChecked(True)
            button.blockSignals(blocked)
        if mode == self._view_mode:
            return
        self._view_mode = mode
        self._redraw()
        self.viewModeChanged.emit(mode)

    def node_rect(self, layer: int, unit: int) -> QRectF:
        """Node ``unit`` of activation layer ``layer`` in canvas-widget coordinates.

        Scrolls the view first if the node is outside the visible part.
        """
        lay = self._require_layout()
        rect = lay.node_rect(self._node_index(layer, unit))
        self.view.ensureVisible(rect, 4, 4)
        return self._scene_to_widget_rect(rect)

    def node_center(self, layer: int, unit: int) -> QPoint:
        return self.node_rect(layer, unit).center().toPoint()

    def connection_point(self, layer: int, i: int, j: int) -> QPoint:
        """A point on the connection W_layer[i, j] in canvas-widget coordinates.

        Picked 30–55 % along the curve, where it is farthest from every other connection, so
        hovering or clicking there hits this connection.  Scrolls the view if needed.
        """
        lay = self._require_layout()
        c = self._connection_index(layer, i, j)
        lo, hi = lay.conn_offsets[layer], lay.conn_offsets[layer + 1]
        best, best_clear = None, -1.0
        for s in range(int(0.3 * (lay.samples - 1)), int(0.55 * (lay.samples - 1)) + 1):
            px, py = float(lay.conn_x[c, s]), float(lay.conn_y[c, s])
            d2 = self._segment_distances2(px, py, lo, hi)
            d2[c - lo] = np.inf
            clear = float(d2.min()) if len(d2) else np.inf
            if clear > best_clear:
                best, best_clear = QPointF(px, py), clear
        assert best is not None
        self.view.ensureVisible(QRectF(best.x() - 2, best.y() - 2, 4, 4), 20, 20)
        return self._scene_to_widget(best)

    def hover_text(self) -> str:
        """The hover tooltip's current text (plain), or "" when nothing is hovered."""
        return self._hover_text

    def image_for_export(self, scale: float = 1.0) -> QImage:
        """The whole network (not only the visible part) rendered to an image."""
        lay = self._layout
        w, h = (lay.width, lay.height) if lay is not None else (400.0, 300.0)
        image = QImage(max(1, int(w * scale)), max(1, int(h * scale)), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor(self._theme.base))
        hover, self._hover = self._hover, None  # the pointer's highlight is not part of the picture
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self._scene.render(painter, QRectF(0, 0, image.width(), image.height()), QRectF(0, 0, w, h))
        painter.end()
        self._hover = hover
        return image

    # ------------------------------------------------------------------------ handlers

    def _on_controller_snapshot_changed(self, snapshot: Snapshot) -> None:
        start = time.perf_counter()
        self._snapshot = snapshot
        if self._layout_key_for(snapshot) != self._layout_key:
            self._hover = None
            self._set_hover_text("")
            self._layout = None  # _redraw lays the network out again
        self._redraw()
        self.frame_ms = 1e3 * (time.perf_counter() - start)

    def _on_controller_selection_changed(self, selection: Ref | None) -> None:
        self._item.update()

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._apply_theme(theme)
        self._redraw()

    def _on_mode_group_id_clicked(self, index: int) -> None:
        self.set_view_mode(VIEW_MODES[index])

    def _on_view_viewport_resized(self) -> None:
        self._relayout()

    def _on_view_pointer_moved(self, scene_pos: QPointF, global_pos: QPoint) -> None:
        self._hover_global = global_pos
        target = self._hit(scene_pos)
        if target != self._hover:
            self._hover = target
            self._item.update()
        self._refresh_hover()

    def _on_view_pointer_left(self) -> None:
        if self._hover is not None:
            self._hover = None
            self._item.update()
        self._set_hover_text("")

    def _on_view_pointer_pressed(self, scene_pos: QPointF) -> None:
        target = self._hit(scene_pos)
        if target is None:
            self._controller.select(None)
        elif target[0] == "neuron":
            self._controller.select(NeuronRef(target[1], target[2]))
        else:
            _, layer, i, j = target
            self._controller.select(WeightRef(layer, i, j))

    # ------------------------------------------------------------------------ theme

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        lut = diverging_lut(theme, LUT_SIZE).astype(np.float64)
        base = QColor(theme.base)
        # A faint version for the 1-D strips, so the curve drawn on them stays readable.
        faded = 0.55 * lut[:, :3] + 0.45 * np.array([base.red(), base.green(), base.blue()])
        self._lut32 = self._argb_words(lut[:, :3])
        self._faded_lut32 = self._argb_words(faded)
        self.view.setBackgroundBrush(QColor(theme.base))
        self._bar.setAutoFillBackground(True)
        pal = self._bar.palette()
        pal.setColor(self._bar.backgroundRole(), QColor(theme.base))
        self._bar.setPalette(pal)
        self._caption.setStyleSheet(f"QLabel {{ color: {theme.muted}; }}")
        self.phase_strip.set_theme(theme)
        on_accent = "#101014" if theme.dark else "#ffffff"
        radius = {"first": "border-top-left-radius: 4px; border-bottom-left-radius: 4px;",
                  "mid": "border-left: none;",
                  "last": "border-top-right-radius: 4px; border-bottom-right-radius: 4px; border-left: none;"}
        for button in self.mode_buttons.values():
            kind = button.objectName().split("_")[1]
            button.setStyleSheet(
                f"QToolButton {{ background: {theme.window}; color: {theme.text}; border: 1px solid {theme.grid};"
                f" padding: 2px 10px; {radius[kind]} }}"
                f"QToolButton:hover {{ background: {theme.grid}; }}"
                f"QToolButton:checked {{ background: {theme.accent}; color: {on_accent}; border-color: {theme.accent}; }}"
            )

    @staticmethod
    def _argb_words(rgb: Array) -> Array:
        """0xFFRRGGBB words: QImage.Format_RGB32's memory layout, so Qt draws it without converting."""
        c = np.clip(np.round(rgb), 0, 255).astype(np.uint32)
        return (np.uint32(0xFF) << np.uint32(24)) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]

    # ------------------------------------------------------------------------ layout

    @staticmethod
    def _layout_key_for(snapshot: Snapshot) -> tuple:
        grid = snapshot.grid
        mode = "plain" if grid is None else "image" if grid.is_2d else "curve"
        names = snapshot.dataset.class_names if snapshot.is_classification else ()
        return (snapshot.run_id, snapshot.layer_sizes, snapshot.activation_names, snapshot.feature_labels,
                mode, names)

    def _require_layout(self) -> _Layout:
        if self._layout is None:
            raise RuntimeError("the canvas has no snapshot yet")
        return self._layout

    def _relayout(self) -> None:
        snap = self._snapshot
        if snap is None or self._relayouting:
            return
        self._relayouting = True
        try:
            # A new scene size can show or hide scrollbars, which resizes the viewport: lay out
            # again for the new size (twice at most; the second pass keeps the scrollbars).
            for _ in range(3):
                vp = self.view.viewport().size()
                self._layout = self._compute_layout(snap, float(max(vp.width(), 100)), float(max(vp.height(), 80)))
                rect = QRectF(0, 0, self._layout.width, self._layout.height)
                self._scene.setSceneRect(rect)
                self._item.set_rect(rect)
                if self.view.viewport().size() == vp:
                    break
            self._layout_key = self._layout_key_for(snap)
            self._build_frame()
            self._item.update()
        finally:
            self._relayouting = False

    def _header_texts(self, snap: Snapshot) -> list[tuple[str, str]]:
        n_layers = len(snap.layer_sizes) - 1
        texts = [("Input", f"{snap.layer_sizes[0]} features" if snap.layer_sizes[0] != 1 else "1 feature")]
        for l in range(1, n_layers + 1):
            name = "Output" if l == n_layers else f"Hidden {l}"
            texts.append((name, snap.activation_names[l - 1]))
        return texts

    def _compute_layout(self, snap: Snapshot, width: float, height: float) -> _Layout:
        """Node size, column pitch and every polyline for a ``width × height`` viewport.

        Nodes are as large as fit (between MIN_NODE and MAX_NODE); if even the minimum does not
        fit, the scene grows beyond the viewport and the view scrolls.  Column headers take one
        line ("Hidden 1 · tanh") when that fits between the columns, two otherwise.
        """
        sizes = tuple(int(n) for n in snap.layer_sizes)
        n_cols = len(sizes)
        n_gaps = n_cols - 1
        n_max = max(sizes)
        font = self.font()
        bold = QFont(font)
        bold.setBold(True)
        fm, fmb = QFontMetricsF(font), QFontMetricsF(bold)
        line_h = fm.height()
        legend_h = line_h + 4  # the line-width scale under the network

        # Input labels sit left of the input nodes; class names right of the outputs.
        labels_in = [fm.elidedText(t, Qt.TextElideMode.ElideRight, 110) for t in snap.feature_labels]
        left = MARGIN + (max(fm.horizontalAdvance(t) for t in labels_in) + 8 if labels_in else 0)
        names = snap.dataset.class_names if snap.is_classification else ()
        labels_out = [fm.elidedText(t, Qt.TextElideMode.ElideRight, 110) for t in names] \
            if len(names) == sizes[-1] > 1 else []
        right = MARGIN + (max(fm.horizontalAdvance(t) for t in labels_out) + 8 if labels_out else 0)

        headers = self._header_texts(snap)
        widths = {1: [fmb.horizontalAdvance(f"{a} · {b}" if c else a) + 6 for c, (a, b) in enumerate(headers)],
                  2: [max(fmb.horizontalAdvance(a), fm.horizontalAdvance(b)) + 6 for a, b in headers]}

        for lines in (1, 2):
            top = MARGIN + lines * line_h + 8
            avail_h = height - top - MARGIN - 6 - legend_h  # 6: the bias bar under the last node
            s_v = avail_h / (n_max + 0.35 * (n_max - 1))
            if 0.35 * s_v < 8:
                s_v = (avail_h - 8 * (n_max - 1)) / n_max
            avail_w = width - left - right
            s_h = avail_w / (1 + 2.2 * n_gaps)  # leave connections ≥ 1.2 node widths
            node = max(float(MIN_NODE), float(int(min(MAX_NODE, s_v, s_h))))
            # The edge columns' headers may stick out past their node, but not past the scene.
            first_x = max(left, widths[lines][0] / 2 - node / 2 + 2)
            right_x = max(right, widths[lines][-1] / 2 - node / 2 + 2)
            pitch = (width - first_x - right_x - node) / n_gaps if n_gaps else 0.0
            min_pitch = max(node * 2.0, node + 30, max(widths[2]))
            if lines == 1 and pitch < max(widths[1]):
                continue  # one-line headers would collide: use two lines
            pitch = max(pitch, min_pitch)
            break
        gap = max(8.0, round(0.35 * node))
        col_h = [n * node + (n - 1) * gap for n in sizes]
        scene_w = max(width, first_x + n_gaps * pitch + node + right_x)
        scene_h = max(height, top + max(col_h) + 6 + legend_h + MARGIN)
        avail_h = scene_h - top - MARGIN - 6 - legend_h

        col_x = np.round(first_x + pitch * np.arange(n_cols))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        node_x = np.empty(offsets[-1])
        node_y = np.empty(offsets[-1])
        for c, n in enumerate(sizes):
            # Columns are centred vertically, so short columns sit level with tall ones.
            y0 = top + max(0.0, (avail_h - col_h[c]) / 2)
            node_x[offsets[c]:offsets[c + 1]] = col_x[c]
            node_y[offsets[c]:offsets[c + 1]] = np.round(y0 + np.arange(n) * (node + gap))

        # Connections: flat order (layer, i, j) matches W_layer.ravel().
        xs0, ys0, xs1, ys1, conn_offsets = [], [], [], [], [0]
        for l in range(n_gaps):
            n_in, n_out = sizes[l], sizes[l + 1]
            yi = node_y[offsets[l]:offsets[l + 1]] + node / 2
            yj = node_y[offsets[l + 1]:offsets[l + 2]] + node / 2
            ys0.append(np.repeat(yi, n_out))
            ys1.append(np.tile(yj, n_in))
            xs0.append(np.full(n_in * n_out, col_x[l] + node))
            xs1.append(np.full(n_in * n_out, col_x[l + 1]))
            conn_offsets.append(conn_offsets[-1] + n_in * n_out)
        # Qt's cost grows with the segment count: as few points as keep the curves smooth.
        samples = int(np.clip(pitch / 16, MIN_SAMPLES, MAX_SAMPLES))
        conn_x, conn_y = s_curve_samples(np.concatenate(xs0), np.concatenate(ys0),
                                         np.concatenate(xs1), np.concatenate(ys1), samples)
        segments = np.stack([conn_x[:, :-1], conn_y[:, :-1], conn_x[:, 1:], conn_y[:, 1:]], axis=2)
        # Level connections are one segment (the rest collapse to nothing at its end).
        flat = np.abs(conn_y[:, -1] - conn_y[:, 0]) < 0.5
        segments[flat, 0, 2:] = segments[flat, -1, 2:]
        segments[flat, 1:, :2] = segments[flat, 1:, 2:] = segments[flat, -1:, 2:]
        # Drawn one by one, abutting antialiased segments leave hairline seams and overlapping
        # ones darker beads; a small overlap closes the seams with barely any bead.
        d = segments[..., 2:] - segments[..., :2]
        d *= (0.4 / np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9))[..., None]
        segments[..., :2] -= d
        segments[..., 2:] += d
        # n lines meet at each node: keep their bundle about as wide as the node.
        max_width = float(np.clip(1.3 * node / n_max, 1.5, MAX_WIDTH))

        header_rects = []
        for c, (a, b) in enumerate(headers):
            w = widths[lines][c]
            x0 = col_x[c] + node / 2 - w / 2
            rect = QRectF(max(2.0, min(x0, scene_w - w - 2)), MARGIN, w, lines * line_h + 2)
            header_rects.append((rect, f"{a} · {b}" if c else a, "") if lines == 1 else (rect, a, b))

        label_rects = []
        for k, text in enumerate(labels_in):
            label_rects.append((QRectF(MARGIN, node_y[k], col_x[0] - 6 - MARGIN, node), text,
                                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
        for k, text in enumerate(labels_out):
            x = col_x[-1] + node + 6
            label_rects.append((QRectF(x, node_y[offsets[-2] + k], scene_w - x - 2, node), text,
                                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter))

        border, tracks = QPainterPath(), QPainterPath()
        for k in range(offsets[-1]):
            border.addRect(QRectF(node_x[k] + 0.5, node_y[k] + 0.5, node - 1, node - 1))
            if k >= offsets[1]:
                tracks.moveTo(node_x[k], node_y[k] + node + 3.5)
                tracks.lineTo(node_x[k] + node, node_y[k] + node + 3.5)

        return _Layout(
            sizes=sizes, samples=samples, max_width=max_width, node=node, gap=gap, offsets=offsets,
            node_x=node_x, node_y=node_y, col_x=col_x, conn_offsets=np.array(conn_offsets),
            conn_x=conn_x, conn_y=conn_y, segments=segments, headers=header_rects,
            legend=QRectF(MARGIN, scene_h - MARGIN - line_h, scene_w - 2 * MARGIN, line_h),
            labels=label_rects, width=float(math.ceil(scene_w)), height=float(math.ceil(scene_h)),
            border_path=border, bias_tracks=tracks,
        )

    # ------------------------------------------------------------------------ per frame

    def _redraw(self) -> None:
        if self._snapshot is None:
            return
        if self._layout is None:
            self._relayout()
        else:
            self._build_frame()
            self._item.update()
        self._update_bar()
        if self._hover is not None:
            self._refresh_hover()

    def _connection_values(self, snap: Snapshot) -> tuple[Array | None, str]:
        """The flat per-connection values of the current view mode, and the caption."""
        mode = self._view_mode
        if mode == "weights":
            return np.concatenate([w.ravel() for w in snap.weights]), "weights w"
        if mode == "gradients":
            if snap.phase == "backward" and snap.batch_gradients is not None:
                grads = snap.batch_gradients[0]
                caption = f"∂J/∂w of the batch ({len(snap.batch_indices)})"
            else:
                grads = snap.grad_weights
                caption = "∂J/∂w, full training set"
            return np.concatenate([g.ravel() for g in grads]), caption
        if snap.last_update is None:
            return None, "no update applied yet"
        return np.concatenate([d.ravel() for d in snap.last_update[0]]), "Δw of the last step"

    def _build_frame(self) -> None:
        snap, lay = self._snapshot, self._layout
        if snap is None or lay is None:
            return
        frame = _Frame()
        self._build_connections(frame, snap, lay)
        grid = snap.grid
        if grid is None:
            self._build_plain_nodes(frame, snap)
        elif grid.is_2d:
            self._build_heatmaps(frame, snap, lay)
        else:
            self._build_curves(frame, snap, lay)
        self._build_biases(frame, snap, lay)
        if self._view_mode == "gradients":
            self._build_halos(frame, snap, lay)
        self._frame = frame

    def _build_connections(self, frame: _Frame, snap: Snapshot, lay: _Layout) -> None:
        """Bucket connections by (sign, magnitude level): one pen and one segment array each.

        Width grows linearly with |value| / max |value| over every shown connection (this
        frame), from MIN_WIDTH to the layout's max width; weak connections also fade toward the
        background.  Buckets are drawn weakest first, so strong connections lie on top.
        """
        values, _ = self._connection_values(snap)
        n = lay.conn_x.shape[0]
        theme = self._theme
        segments = lay.segments
        if values is None or len(values) != n:
            pen = QPen(blend(theme.muted, theme.base, 0.35), 0.75)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            frame.conn_lines = [(pen, np.ascontiguousarray(segments.reshape(-1, 4)))]
            frame.conn_width = np.full(n, 0.75)
            frame.conn_color = np.zeros(n, dtype=np.int8)
            return
        mag = np.abs(values)
        broken = ~np.isfinite(mag)
        mag[broken] = 0.0
        top = float(mag.max()) if n else 0.0
        norm = mag / top if top > 0 else mag
        symbol = {"weights": "|w|", "gradients": "|∂J/∂w|", "updates": "|Δw|"}[self._view_mode]
        if broken.any():
            # A diverged run: saying "0" (or drawing them thin) would hide that they overflowed.
            frame.legend = f"{int(broken.sum())} of {n} {symbol[1:-1]} are not finite (training diverged)"
        elif top > 0:
            frame.legend = f"line width ∝ {symbol}; thickest = {top:.3g}"
        else:
            frame.legend = f"every {symbol[1:-1]} is 0"
        level = np.minimum((norm * WIDTH_LEVELS).astype(np.int64), WIDTH_LEVELS - 1)
        sign = np.sign(values).astype(np.int8)
        sign[mag == 0] = 0
        level_width = MIN_WIDTH + (lay.max_width - MIN_WIDTH) * np.arange(WIDTH_LEVELS) / (WIDTH_LEVELS - 1)
        frame.conn_width = level_width[level]
        frame.conn_color = sign
        # bucket 0 = exactly zero; then 1 + 2·level + (positive), so weak buckets come first
        bucket = np.where(sign == 0, 0, 1 + 2 * level + (sign > 0))
        order = np.argsort(bucket, kind="stable")
        counts = np.bincount(bucket, minlength=1 + 2 * WIDTH_LEVELS)
        starts = np.concatenate([[0], np.cumsum(counts)])
        lines = []
        for b in np.flatnonzero(counts):
            if b == 0:
                pen = QPen(blend(theme.muted, theme.base, 0.3), MIN_WIDTH)
            else:
                lvl = (b - 1) // 2
                color = blend(theme.positive if (b - 1) % 2 else theme.negative, theme.base,
                              0.5 + 0.5 * lvl / (WIDTH_LEVELS - 1))
                pen = QPen(color, float(level_width[lvl]))
            # Flat caps (square ones would overlap by the pen width and bead the edges).
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            idx = order[starts[b]:starts[b + 1]]
            lines.append((pen, segments[idx].reshape(-1, 4)))  # fancy indexing: a fresh C-contiguous copy
        frame.conn_lines = lines

    def _node_levels(self, snap: Snapshot, abs_max_unit: Array) -> tuple[Array, Array]:
        """Per-node colour range (lo, hi) from each unit's largest |value| over the grid."""
        offsets = np.concatenate([[0], np.cumsum(snap.layer_sizes)]).astype(int)
        lo = np.empty(offsets[-1], dtype=np.float32)
        hi = np.empty(offsets[-1], dtype=np.float32)
        # Input features each get their own range: x1 ∈ [-6, 6] next to x1² ∈ [0, 36] would
        # otherwise wash out.
        m = np.where(np.isfinite(abs_max_unit[: offsets[1]]) & (abs_max_unit[: offsets[1]] > 0),
                     abs_max_unit[: offsets[1]], 1.0)
        lo[: offsets[1]], hi[: offsets[1]] = -m, m
        for l, name in enumerate(snap.activation_names, start=1):
            seg = abs_max_unit[offsets[l]:offsets[l + 1]]
            a, b = layer_levels(name, float(np.max(seg)) if len(seg) else 1.0)
            lo[offsets[l]:offsets[l + 1]], hi[offsets[l]:offsets[l + 1]] = a, b
        return lo, hi

    def _lut_index(self, values: Array, lo: Array, hi: Array) -> Array:
        """uint8 LUT indices of ``values`` (…, N) for per-node ranges ``lo``, ``hi`` (N,)."""
        scale = (LUT_SIZE - 1) / np.maximum(hi - lo, 1e-12)
        with np.errstate(invalid="ignore"):
            t = (values - lo) * scale
            np.clip(t, 0, LUT_SIZE - 1, out=t)
            t[np.isnan(t)] = (LUT_SIZE - 1) / 2
        return t.astype(np.uint8)

    def _build_heatmaps(self, frame: _Frame, snap: Snapshot, lay: _Layout) -> None:
        """Every node's heatmap, one atlas image: tile k (rows k·r … k·r + r) is node k."""
        grid = snap.grid
        R = grid.resolution
        dpr = max(1.0, self.view.viewport().devicePixelRatioF())
        # No point in more pixels than shown; beyond MAX_TILE smooth upscaling looks the same.
        step = max(1, math.ceil(R / min(lay.node * dpr, MAX_TILE)))
        planes = [a.reshape(R, R, a.shape[1])[::step, ::step, :] for a in grid.activations]
        with np.errstate(over="ignore"):  # a diverging run's huge values become ±inf: drawn neutral
            A = np.concatenate(planes, axis=2, dtype=np.float32)  # (r, r, N)
        r = A.shape[0]
        abs_max = np.abs(A).reshape(-1, A.shape[2]).max(axis=0)
        lo, hi = self._node_levels(snap, abs_max)
        idx = self._lut_index(A, lo, hi)
        # (N, r, r) with image row 0 at the top (grid row 0 is the bottom).
        pixels = np.ascontiguousarray(self._lut32[np.ascontiguousarray(idx.transpose(2, 0, 1)[:, ::-1, :])])
        frame.node_pixels = pixels
        frame.node_image = QImage(pixels.data, r, pixels.shape[0] * r, r * 4, QImage.Format.Format_RGB32)
        frame.tile = r
        frame.tile_width = r

    def _build_curves(self, frame: _Frame, snap: Snapshot, lay: _Layout) -> None:
        """1-D data: each node shows its output over x as a curve on a faint colour strip."""
        grid = snap.grid
        with np.errstate(over="ignore"):
            A = np.concatenate(grid.activations, axis=1, dtype=np.float32)  # (R, N)
        R, N = A.shape
        lo, hi = self._node_levels(snap, np.abs(A).max(axis=0))
        strip = self._faded_lut32[self._lut_index(A, lo, hi).T]  # (N, R)
        strip = np.ascontiguousarray(strip)
        frame.node_pixels = strip
        frame.node_image = QImage(strip.data, R, N, R * 4, QImage.Format.Format_RGB32)
        frame.tile = 1
        frame.tile_width = R
        pad = 3.0
        s = lay.node
        take = np.linspace(0, R - 1, max(2, min(R, int(s)))).astype(int)
        t = (take / (R - 1))[None, :]
        with np.errstate(invalid="ignore"):
            v = (A[take, :].T - lo[:, None]) / np.maximum(hi - lo, 1e-12)[:, None]  # (N, k) in [0, 1]
        v = np.clip(np.nan_to_num(v, nan=0.5), 0.0, 1.0)
        x = lay.node_x[:, None] + pad + t * (s - 2 * pad)
        y = lay.node_y[:, None] + s - pad - v * (s - 2 * pad)
        k = x.shape[1]
        connect = np.ones(x.size, dtype=np.int32)
        connect[k - 1::k] = 0
        frame.curves = arrayToQPath(x.ravel(), y.ravel(), connect, finiteCheck=False)
        # Zero lines where 0 lies inside the node's range.
        z = np.clip(-lo / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
        zy = lay.node_y + s - pad - z * (s - 2 * pad)
        zx0, zx1 = lay.node_x + pad, lay.node_x + s - pad
        inside = (lo < 0) & (hi > 0)
        zx = np.column_stack([zx0, zx1])[inside].ravel()
        zyy = np.column_stack([zy, zy])[inside].ravel()
        frame.zero_lines = arrayToQPath(zx, zyy, "pairs", finiteCheck=False) if len(zx) else None

    def _build_plain_nodes(self, frame: _Frame, snap: Snapshot) -> None:
        """>2 raw inputs: no plane to draw, so each node is coloured by its mean activation."""
        means = np.concatenate([np.asarray(m, dtype=np.float64) for m in snap.neurons.mean_activation])
        n_in = snap.layer_sizes[0]
        abs_max = np.abs(means)
        inputs = snap.dataset.inputs
        if inputs.shape[1] == n_in:
            # Scale each input's mean against that input's own spread of values (cached: the
            # dataset only changes with the run).
            if self._input_scale[0] is not snap.dataset:
                self._input_scale = (snap.dataset, np.abs(inputs).max(axis=0))
            abs_max[:n_in] = self._input_scale[1]
        else:
            abs_max[:n_in] = np.abs(means[:n_in]).max() if n_in else 1.0
        lo, hi = self._node_levels(snap, abs_max.astype(np.float32))
        idx = self._lut_index(means.astype(np.float32), lo, hi)
        words = self._lut32[idx]
        frame.node_fill = [QColor.fromRgb(int(w) & 0xFFFFFF) for w in words]

    def _build_biases(self, frame: _Frame, snap: Snapshot, lay: _Layout) -> None:
        """A bar under each hidden/output node: length ∝ |b| / max |b|, colour = sign."""
        b = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in snap.biases])
        first = int(lay.offsets[1])
        if len(b) != len(lay.node_x) - first:
            return
        mag = np.abs(b)
        mag[~np.isfinite(mag)] = 0.0
        top = mag.max() if len(mag) else 0.0
        length = (mag / top if top > 0 else mag) * lay.node
        pos, neg = [], []
        for k in np.flatnonzero(length >= 0.5):
            x, y = float(lay.node_x[first + k]), float(lay.node_y[first + k]) + lay.node + 2
            (pos if b[k] > 0 else neg).append(QRectF(x, y, float(length[k]), 3.0))
        frame.bias_rects = (pos, neg)

    def _build_halos(self, frame: _Frame, snap: Snapshot, lay: _Layout) -> None:
        """Gradients view: a glow in the accent colour ∝ mean |δ| (normalised over all neurons)."""
        deltas = [d for d in snap.neurons.mean_abs_delta[1:] if d is not None]
        if not deltas:
            return
        d = np.concatenate(deltas)
        d[~np.isfinite(d)] = 0.0
        top = d.max() if len(d) else 0.0
        if top <= 0:
            return
        norm = d / top
        first = int(lay.offsets[1])
        e_max = max(3.0, min(8.0, lay.gap / 2))
        halos = []
        for k, v in enumerate(norm):
            if v < 0.02:
                continue
            e = 1.5 + (e_max - 1.5) * v
            c = blend(self._theme.accent, self._theme.base, 0.2 + 0.6 * v)  # opaque: cheap to fill
            rect = lay.node_rect(first + k).adjusted(-e, -e, e, e)
            halos.append((rect, c))
        frame.halos = halos

    # ------------------------------------------------------------------------ painting

    def _paint(self, p: QPainter) -> None:
        lay, fr, theme = self._layout, self._frame, self._theme
        if lay is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_text(p, lay, theme)

        # Gradient halos lie under the connections, so lines still reach their nodes.
        p.setPen(Qt.PenStyle.NoPen)
        for rect, color in fr.halos:
            p.setBrush(color)
            p.drawRoundedRect(rect, 4, 4)

        p.setBrush(Qt.BrushStyle.NoBrush)
        for pen, lines in fr.conn_lines:
            p.setPen(pen)
            # drawLines(const QLineF *, int) reads the segments straight from the numpy buffer.
            p.drawLines(wrapInstance(lines.ctypes.data, QLineF), len(lines))
        self._paint_connection_marks(p, lay, fr, theme)

        self._paint_nodes(p, lay, fr, theme)
        self._paint_node_marks(p, lay, theme)

    def _paint_text(self, p: QPainter, lay: _Layout, theme: Theme) -> None:
        font = self.font()
        bold = QFont(font)
        bold.setBold(True)
        fm = QFontMetricsF(font)
        for rect, a, b in lay.headers:
            p.setFont(bold)
            p.setPen(QColor(theme.text))
            top = QRectF(rect.x(), rect.y(), rect.width(), fm.height())
            p.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                       QFontMetricsF(bold).elidedText(a, Qt.TextElideMode.ElideRight, rect.width()))
            if b:
                p.setFont(font)
                p.setPen(QColor(theme.muted))
                p.drawText(top.translated(0, fm.height()), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                           fm.elidedText(b, Qt.TextElideMode.ElideRight, rect.width()))
        p.setFont(font)
        p.setPen(QColor(theme.text))
        for rect, text, align in lay.labels:
            p.drawText(rect, align, text)
        if self._frame.legend:
            p.setPen(QColor(theme.muted))
            p.drawText(lay.legend, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._frame.legend)

    def _connection_path(self, lay: _Layout, c: int) -> QPainterPath:
        path = QPainterPath()
        path.moveTo(float(lay.conn_x[c, 0]), float(lay.conn_y[c, 0]))
        for s in range(1, lay.samples):
            path.lineTo(float(lay.conn_x[c, s]), float(lay.conn_y[c, s]))
        return path

    def _paint_connection_marks(self, p: QPainter, lay: _Layout, fr: _Frame, theme: Theme) -> None:
        """The selected connection (outlined in the selection colour) and the hovered one."""
        marks = []
        sel = self._controller.selection
        if sel is not None and isinstance(sel, WeightRef):
            c = self._connection_index_or_none(sel.layer, sel.i, sel.j)
            if c is not None:
                marks.append((c, theme.qcolor("selection"), 4.0))
        if self._hover is not None and self._hover[0] == "weight":
            c = self._connection_index_or_none(*self._hover[1:])
            if c is not None and (not marks or marks[0][0] != c):
                marks.append((c, blend(theme.text, theme.base, 0.6), 2.5))
        for c, color, extra in marks:
            width = float(fr.conn_width[c]) if fr.conn_width is not None else 1.0
            path = self._connection_path(lay, c)
            pen = QPen(color, width + extra)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawPath(path)
            sign = int(fr.conn_color[c]) if fr.conn_color is not None else 0
            inner = QColor(theme.positive if sign > 0 else theme.negative if sign < 0 else theme.muted)
            p.setPen(QPen(inner, max(width, 1.0)))
            p.drawPath(path)

    def _paint_nodes(self, p: QPainter, lay: _Layout, fr: _Frame, theme: Theme) -> None:
        n = len(lay.node_x)
        if fr.node_image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, fr.tile > 1)
            for k in range(n):
                p.drawImage(lay.node_rect(k), fr.node_image, QRectF(0, k * fr.tile, fr.tile_width, fr.tile))
            if fr.tile == 1:
                if fr.zero_lines is not None:
                    p.setPen(QPen(blend(theme.muted, theme.base, 0.7), 0.8, Qt.PenStyle.DashLine))
                    p.drawPath(fr.zero_lines)
                p.setPen(QPen(QColor(theme.text), 1.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPath(fr.curves)
        elif fr.node_fill is not None:
            for k in range(min(n, len(fr.node_fill))):
                p.fillRect(lay.node_rect(k), fr.node_fill[k])
        else:
            for k in range(n):
                p.fillRect(lay.node_rect(k), QColor(theme.neutral))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(theme.node_border), 1.0))
        p.drawPath(lay.border_path)
        p.setPen(QPen(theme.qcolor("grid"), 1.0))
        p.drawPath(lay.bias_tracks)
        p.setPen(Qt.PenStyle.NoPen)
        pos, neg = fr.bias_rects
        if pos:
            p.setBrush(QColor(theme.positive))
            p.drawRects(pos)
        if neg:
            p.setBrush(QColor(theme.negative))
            p.drawRects(neg)

    def _paint_node_marks(self, p: QPainter, lay: _Layout, theme: Theme) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self._hover is not None and self._hover[0] == "neuron":
            k = self._node_index_or_none(self._hover[1], self._hover[2])
            if k is not None:
                p.setPen(QPen(QColor(theme.text), 1.5))
                p.drawRect(lay.node_rect(k).adjusted(-1, -1, 1, 1))
        sel = self._controller.selection
        if sel is not None and isinstance(sel, NeuronRef):
            k = self._node_index_or_none(sel.layer, sel.j)
            if k is not None:
                p.setPen(QPen(QColor(theme.selection), 3.0))
                bottom = 7.5 if sel.layer > 0 else 2.5  # around the bias bar too (inputs have none)
                p.drawRect(lay.node_rect(k).adjusted(-2.5, -2.5, 2.5, bottom))

    # ------------------------------------------------------------------------ top bar

    def _update_bar(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        self.phase_strip.set_phase(just_ran_phase(snap))
        _, caption = self._connection_values(snap)
        if caption != self._caption.text():
            self._caption.setText(caption)
            self._caption.setToolTip(caption)

    def caption_text(self) -> str:
        """The caption beside the view switch (what the connections show)."""
        return self._caption.text()

    # ------------------------------------------------------------------------ hit testing

    def _node_index(self, layer: int, unit: int) -> int:
        k = self._node_index_or_none(layer, unit)
        if k is None:
            raise IndexError(f"no node ({layer}, {unit})")
        return k

    def _node_index_or_none(self, layer: int, unit: int) -> int | None:
        lay = self._layout
        if lay is None or not 0 <= layer < len(lay.sizes) or not 0 <= unit < lay.sizes[layer]:
            return None
        return int(lay.offsets[layer]) + unit

    def _connection_index(self, layer: int, i: int, j: int) -> int:
        c = self._connection_index_or_none(layer, i, j)
        if c is None:
            raise IndexError(f"no connection w[{layer}][{i}→{j}]")
        return c

    def _connection_index_or_none(self, layer: int, i: int, j: int) -> int | None:
        lay = self._layout
        if lay is None or not 0 <= layer < len(lay.sizes) - 1:
            return None
        if not (0 <= i < lay.sizes[layer] and 0 <= j < lay.sizes[layer + 1]):
            return None
        return int(lay.conn_offsets[layer]) + i * lay.sizes[layer + 1] + j

    def _segment_distances2(self, px: float, py: float, lo: int, hi: int) -> Array:
        """Squared distance from (px, py) to each connection lo … hi−1."""
        lay = self._layout
        x, y = lay.conn_x[lo:hi], lay.conn_y[lo:hi]
        ax, ay = x[:, :-1], y[:, :-1]
        dx, dy = x[:, 1:] - ax, y[:, 1:] - ay
        len2 = np.maximum(dx * dx + dy * dy, 1e-12)
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0)
        ex, ey = ax + t * dx - px, ay + t * dy - py
        return (ex * ex + ey * ey).min(axis=1)

    def _hit(self, pos: QPointF) -> tuple | None:
        """What is under scene point ``pos``: a neuron, a connection, or None."""
        lay = self._layout
        if lay is None:
            return None
        px, py = pos.x(), pos.y()
        s = lay.node
        # Nodes first (with their bias bar underneath).
        inside = (px >= lay.node_x - 2) & (px <= lay.node_x + s + 2) & (py >= lay.node_y - 2) & (py <= lay.node_y + s + 6)
        hits = np.flatnonzero(inside)
        if len(hits):
            k = int(hits[0])
            layer = int(np.searchsorted(lay.offsets, k, side="right") - 1)
            return ("neuron", layer, k - int(lay.offsets[layer]))
        # Connections: only the weight layer whose gap contains px.
        layer = int(np.searchsorted(lay.col_x, px, side="right") - 1)
        if not 0 <= layer < len(lay.sizes) - 1 or px < lay.col_x[layer] + s:
            return None
        lo, hi = int(lay.conn_offsets[layer]), int(lay.conn_offsets[layer + 1])
        d2 = self._segment_distances2(px, py, lo, hi)
        c = int(np.argmin(d2))
        width = float(self._frame.conn_width[lo + c]) if self._frame.conn_width is not None else 1.0
        tol = 4.0 + width / 2
        if d2[c] > tol * tol:
            return None
        n_out = lay.sizes[layer + 1]
        return ("weight", layer, c // n_out, c % n_out)

    # ------------------------------------------------------------------------ tooltips

    def _hover_rows(self, snap: Snapshot, target: tuple) -> tuple[str, list[tuple[str, str]]]:
        if target[0] == "weight":
            _, l, i, j = target
            title = f"{weight_name(l, i, j)}  from {unit_name(snap, l, i)} → {unit_name(snap, l + 1, j)}"
            rows = [("w", format_value(snap.weights[l][i, j])),
                    ("∂J/∂w", format_value(snap.grad_weights[l][i, j]))]
            if snap.phase == "backward" and snap.batch_gradients is not None:
                rows.append(("batch ∂J/∂w", format_value(snap.batch_gradients[0][l][i, j])))
            last = snap.last_update
            rows.append(("last Δw", format_value(last[0][l][i, j]) if last is not None else "none yet"))
            rows.append(("next Δw", format_value(snap.next_update[0][l][i, j])))
            return title, rows
        _, l, j = target
        name = unit_name(snap, l, j)
        if l == 0:
            return name, [("mean value", format_value(snap.neurons.mean_activation[0][j]))]
        title = f"{name}  ·  {snap.activation_names[l - 1]}"
        delta = snap.neurons.mean_delta[l]
        abs_delta = snap.neurons.mean_abs_delta[l]
        rows = [("bias", format_value(snap.biases[l - 1][j])),
                ("∂J/∂b", format_value(snap.grad_biases[l - 1][j])),
                ("mean activation", format_value(snap.neurons.mean_activation[l][j])),
                ("mean δ", format_value(None if delta is None else delta[j])),
                ("mean |δ|", format_value(None if abs_delta is None else abs_delta[j]))]
        return title, rows

    def _refresh_hover(self) -> None:
        """Re-read the hovered target's values from the current snapshot and re-show the tooltip."""
        snap, target = self._snapshot, self._hover
        if snap is None or target is None:
            self._set_hover_text("")
            return
        valid = (self._connection_index_or_none(*target[1:]) if target[0] == "weight"
                 else self._node_index_or_none(*target[1:]))
        if valid is None:
            self._hover = None
            self._set_hover_text("")
            return
        title, rows = self._hover_rows(snap, target)
        plain = "\n".join([title] + [f"{k}: {v}" for k, v in rows])
        if plain == self._hover_text:
            return
        self._hover_text = plain
        html = (f"<b>{escape(title)}</b><table cellspacing='0' cellpadding='1'>"
                + "".join(f"<tr><td>{escape(k)}&nbsp;&nbsp;</td><td align='right'><tt>{v}</tt></td></tr>"
                          for k, v in rows)
                + "</table>")
        # A long display time: the tooltip stays up (and live) while the pointer rests.
        QToolTip.showText(self._hover_global, html, self.view.viewport(), QRect(), 120_000)

    def _set_hover_text(self, text: str) -> None:
        if not text and self._hover_text:
            QToolTip.hideText()
        self._hover_text = text

    # ------------------------------------------------------------------------ coordinates

    def _scene_to_widget(self, point: QPointF) -> QPoint:
        vp = self.view.mapFromScene(point)
        return self.view.viewport().mapTo(self, vp)

    def _scene_to_widget_rect(self, rect: QRectF) -> QRectF:
        top_left = self._scene_to_widget(rect.topLeft())
        return QRectF(QPointF(top_left), rect.size())
