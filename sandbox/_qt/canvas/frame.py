"""What one snapshot draws: pens and segment arrays, the heatmap atlas, curves, bias bars, halos.

Built once per snapshot (:func:`build_frame`) and painted by :mod:`.painting`.  Connections
are bucketed by (sign, magnitude level): each bucket is one pen and one numpy array of line
segments that a single ``QPainter.drawLines`` call draws straight from memory.  All heatmaps
are built at once with numpy (one LUT gather for every neuron) into one atlas image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainterPath, QPen

from ...analysis.example_focus import SourceValues, example_activations
from ...analysis.neuron_health import NeuronHealth, neuron_health
from ...formatting import format_number
from ...session.snapshot import Snapshot
from ..theme import Theme, diverging_lut
from . import encoding as enc
from .layout import Layout

Array = np.ndarray

MAX_TILE = 48  # px: heatmap tiles never need more resolution (the fields are smooth)
SYMBOLS = {"weights": "|w|", "gradients": "|∂J/∂w|", "updates": "|Δw|"}


def qcolor(rgb: Array) -> QColor:
    """Float RGB (0…255) → QColor."""
    r, g, b = (int(v) for v in np.clip(np.round(rgb), 0, 255))
    return QColor(r, g, b)


def blend(color: str, background: str, alpha: float) -> QColor:
    """``color`` at opacity ``alpha`` over ``background``, as an opaque QColor."""
    return qcolor(enc.blend(color, background, alpha))


@dataclass
class Palette:
    """A theme's colour tables for the nodes (rebuilt on a theme change)."""

    theme: Theme
    lut32: Array  # heatmap colours, 0xFFRRGGBB
    faded_lut32: Array  # the same, faded toward the background (1-D strips under the curves)

    @classmethod
    def of(cls, theme: Theme) -> "Palette":
        lut = diverging_lut(theme, enc.LUT_SIZE).astype(np.float64)
        faded = 0.55 * lut[:, :3] + 0.45 * enc.rgb(theme.base)
        return cls(theme, enc.argb_words(lut[:, :3]), enc.argb_words(faded))

    def connection_styles(self, max_width: float) -> dict[int, tuple[Array, Array]]:
        """(widths, opacities) per level for each sign (1, −1) in this theme."""
        t = self.theme
        floor = enc.DARK_MIN_CONTRAST if t.dark else None
        return {1: enc.line_styles(max_width, t.positive, t.base, floor),
                -1: enc.line_styles(max_width, t.negative, t.base, floor)}


@dataclass
class Frame:
    """What one snapshot draws."""

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
    node_levels: tuple[Array, Array] | None = None  # per node (lo, hi) of the colour range
    example_points: Array | None = None  # (N, 2): the focused example's mark on each node
    health: NeuronHealth | None = None  # dead and saturated neurons (the tooltip reads it too)
    health_marks: list[tuple[QRectF, str]] = field(default_factory=list)  # node rect, "dead"/"saturated"


def connection_values(snap: Snapshot, mode: str, source: SourceValues | None = None) -> tuple[Array | None, str]:
    """The flat per-connection values of view mode ``mode``, and the caption.

    ``source``: the Gradients view's values for the view state's data source (the last batch,
    or one example's a_i·δ_j); None, or the training set's, keeps the training set's ∂J/∂w
    (the pending batch's while a phase-stepped backward pass waits).
    """
    if mode == "weights":
        return np.concatenate([w.ravel() for w in snap.weights]), "weights w"
    if mode == "gradients":
        if source is not None and source.source.value != "training_set":
            return np.concatenate([g.ravel() for g in source.grad_weights]), source.caption
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


def build_frame(snap: Snapshot, lay: Layout, mode: str, palette: Palette, dpr: float,
                input_scale: Array | None, source: SourceValues | None = None,
                example: int | None = None, log_scale: bool = False) -> Frame:
    """Everything snapshot ``snap`` draws in view mode ``mode``.

    ``input_scale``: each raw input's largest |value| (plain nodes only), or None.
    ``source``: the data source's gradient values and |δ| (see :func:`connection_values`).
    ``example``: the focused training row, marked on every node (its position on each
    heatmap, its value on each curve, its activation as the colour of plain nodes), or None.
    ``log_scale``: connection widths and the gradient glow on a log scale (see ``encoding``).
    """
    frame = Frame()
    build_connections(frame, snap, lay, mode, palette, source, log_scale)
    grid = snap.grid
    if example is not None and not 0 <= example < snap.train_pass.n_rows:
        example = None
    if grid is None:
        build_plain_nodes(frame, snap, palette, input_scale, example)
    elif grid.is_2d:
        build_heatmaps(frame, snap, lay, palette, dpr)
    else:
        build_curves(frame, snap, lay, palette)
    if example is not None and grid is not None:
        build_example_points(frame, snap, lay, example)
    build_biases(frame, snap, lay)
    if mode == "gradients":
        deltas = None
        if source is not None and source.source.value != "training_set":
            deltas = source.mean_abs_delta
        build_halos(frame, snap, lay, palette.theme, deltas, log_scale)
    build_health_marks(frame, snap, lay)
    return frame


def refocus_frame(old: Frame, snap: Snapshot, lay: Layout, mode: str, palette: Palette,
                  source: SourceValues | None, example: int | None, log_scale: bool = False) -> Frame:
    """``old`` (built for this snapshot and layout) for a new focused example or data source:
    connections, glow and the example's marks again; the node pictures and bias bars, which
    do not depend on the focus, are kept (plain nodes, coloured by the example, are redone)."""
    if snap.grid is None:
        return build_frame(snap, lay, mode, palette, 1.0, input_scale(snap), source, example, log_scale)
    frame = Frame(node_image=old.node_image, node_pixels=old.node_pixels, tile=old.tile,
                  tile_width=old.tile_width, curves=old.curves, zero_lines=old.zero_lines,
                  node_fill=old.node_fill, bias_rects=old.bias_rects, node_levels=old.node_levels)
    build_connections(frame, snap, lay, mode, palette, source, log_scale)
    if example is not None and 0 <= example < snap.train_pass.n_rows:
        build_example_points(frame, snap, lay, example)
    if mode == "gradients":
        deltas = None
        if source is not None and source.source.value != "training_set":
            deltas = source.mean_abs_delta
        build_halos(frame, snap, lay, palette.theme, deltas, log_scale)
    # Dead and saturated neurons do not depend on the focus: the same marks, counted again in
    # the legend build_connections just wrote.
    frame.health, frame.health_marks = old.health, old.health_marks
    if old.health is not None:
        _count_health(frame, old.health)
    return frame


def build_health_marks(frame: Frame, snap: Snapshot, lay: Layout) -> None:
    """Dead and saturated hidden neurons (see :mod:`sandbox.analysis.neuron_health`): the
    painter outlines them and tags them; the legend counts them."""
    with np.errstate(invalid="ignore"):
        health = neuron_health(snap)
    frame.health = health
    marks = []
    for l, (dead, saturated) in enumerate(zip(health.dead, health.saturated)):
        for j in np.flatnonzero(dead | saturated):
            k = lay.node_index(l, int(j))
            if k is not None:
                marks.append((QRectF(*lay.node_rect(k)), "dead" if dead[j] else "saturated"))
    frame.health_marks = marks
    _count_health(frame, health)


def _count_health(frame: Frame, health: NeuronHealth) -> None:
    n_dead, n_saturated = health.count()
    parts = [f"{n} {what}" for n, what in ((n_dead, "dead"), (n_saturated, "saturated")) if n]
    if parts:
        frame.legend += f"  ·  {' and '.join(parts)} (tagged)"


def build_connections(frame: Frame, snap: Snapshot, lay: Layout, mode: str, palette: Palette,
                      source: SourceValues | None = None, log_scale: bool = False) -> None:
    """Bucket connections by (sign, magnitude level): one pen and one segment array each.

    Width grows linearly with |value| / max |value| over every shown connection (this frame),
    or with its log over the top ``LOG_DECADES`` decades (``log_scale``), from MIN_WIDTH to the
    layout's max width; weak connections also fade toward the background.  Buckets are drawn
    weakest first, so strong connections lie on top.
    """
    values, _ = connection_values(snap, mode, source)
    n = lay.conn_x.shape[0]
    theme = palette.theme
    segments = lay.segments
    if values is None or len(values) != n:
        pen = QPen(blend(theme.muted, theme.base, 0.35), 0.75)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        frame.conn_lines = [(pen, np.ascontiguousarray(segments.reshape(-1, 4)))]
        frame.conn_width = np.full(n, 0.75)
        frame.conn_color = np.zeros(n, dtype=np.int8)
        return
    e = enc.encode_connections(values, log=log_scale)
    symbol = SYMBOLS[mode]
    if mode == "gradients" and source is not None and source.source.value == "example":
        symbol = "|aᵢ·δⱼ|"  # one example's term: no L1/L2 part (those belong to the average)
    if e.broken.any():
        # A diverged run: saying "0" (or drawing them thin) would hide that they overflowed.
        frame.legend = (f"at the kept (last finite) weights, {int(e.broken.sum())} of {n} "
                        f"{symbol[1:-1]} overflow: training diverged")
    elif e.top > 0 and log_scale:
        frame.legend = (f"line width ∝ log {symbol} over {enc.LOG_DECADES} decades; "
                        f"thickest = {format_number(e.top)}, thinnest ≤ {format_number(e.top * 10.0**-enc.LOG_DECADES)}")
    elif e.top > 0:
        frame.legend = f"line width ∝ {symbol}; thickest = {format_number(e.top)}"
        if symbol == "|aᵢ·δⱼ|":
            frame.legend += " (this example's term alone: no L1/L2; the glow is its |δ|)"
    else:
        frame.legend = f"every {symbol[1:-1]} is 0"
    styles = palette.connection_styles(lay.max_width)
    frame.conn_width = np.where(e.sign > 0, styles[1][0][e.level],
                                np.where(e.sign < 0, styles[-1][0][e.level], enc.MIN_WIDTH))
    frame.conn_color = e.sign
    # bucket 0 = exactly zero; then 1 + 2·level + (positive), so weak buckets come first
    bucket = np.where(e.sign == 0, 0, 1 + 2 * e.level + (e.sign > 0))
    order = np.argsort(bucket, kind="stable")
    counts = np.bincount(bucket, minlength=1 + 2 * enc.WIDTH_LEVELS)
    starts = np.concatenate([[0], np.cumsum(counts)])
    lines = []
    for b in np.flatnonzero(counts):
        if b == 0:
            pen = QPen(blend(theme.muted, theme.base, 0.3), enc.MIN_WIDTH)
        else:
            lvl, sign = (b - 1) // 2, 1 if (b - 1) % 2 else -1
            widths, alphas = styles[sign]
            color = theme.positive if sign > 0 else theme.negative
            pen = QPen(blend(color, theme.base, float(alphas[lvl])), float(widths[lvl]))
        # Flat caps (square ones would overlap by the pen width and bead the edges).
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        idx = order[starts[b]:starts[b + 1]]
        lines.append((pen, segments[idx].reshape(-1, 4)))  # fancy indexing: a fresh C-contiguous copy
    frame.conn_lines = lines


def build_heatmaps(frame: Frame, snap: Snapshot, lay: Layout, palette: Palette, dpr: float) -> None:
    """Every node's heatmap, one atlas image: tile k (rows k·r … k·r + r) is node k."""
    grid = snap.grid
    R = grid.resolution
    # No point in more pixels than shown; beyond MAX_TILE smooth upscaling looks the same.
    step = max(1, math.ceil(R / min(lay.node * max(1.0, dpr), MAX_TILE)))
    planes = [a.reshape(R, R, a.shape[1])[::step, ::step, :] for a in grid.activations]
    with np.errstate(over="ignore"):  # a diverging run's huge values become ±inf: drawn neutral
        A = np.concatenate(planes, axis=2, dtype=np.float32)  # (r, r, N)
    r = A.shape[0]
    abs_max = np.abs(A).reshape(-1, A.shape[2]).max(axis=0)
    lo, hi = enc.node_levels(snap.layer_sizes, snap.activation_names, abs_max)
    frame.node_levels = (lo, hi)
    idx = enc.lut_index(A, lo, hi)
    # (N, r, r) with image row 0 at the top (grid row 0 is the bottom).
    pixels = np.ascontiguousarray(palette.lut32[np.ascontiguousarray(idx.transpose(2, 0, 1)[:, ::-1, :])])
    frame.node_pixels = pixels
    frame.node_image = QImage(pixels.data, r, pixels.shape[0] * r, r * 4, QImage.Format.Format_RGB32)
    frame.tile = r
    frame.tile_width = r


def build_curves(frame: Frame, snap: Snapshot, lay: Layout, palette: Palette) -> None:
    """1-D data: each node shows its output over x as a curve on a faint colour strip."""
    grid = snap.grid
    with np.errstate(over="ignore"):
        A = np.concatenate(grid.activations, axis=1, dtype=np.float32)  # (R, N)
    R, N = A.shape
    lo, hi = enc.node_levels(snap.layer_sizes, snap.activation_names, np.abs(A).max(axis=0))
    frame.node_levels = (lo, hi)
    strip = np.ascontiguousarray(palette.faded_lut32[enc.lut_index(A, lo, hi).T])  # (N, R)
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


def input_scale(snap: Snapshot) -> Array | None:
    """Each raw input's largest |value| over the dataset (plain nodes), or None."""
    inputs = snap.dataset.inputs
    return np.abs(inputs).max(axis=0) if inputs.shape[1] == snap.layer_sizes[0] else None


def build_plain_nodes(frame: Frame, snap: Snapshot, palette: Palette, scale: Array | None,
                      example: int | None = None) -> None:
    """>2 raw inputs: no plane to draw, so each node is coloured by its mean activation (by
    the focused example's activation when one is followed)."""
    per_layer = snap.neurons.mean_activation if example is None else example_activations(snap, example)
    means = np.concatenate([np.asarray(m, dtype=np.float64) for m in per_layer])
    n_in = snap.layer_sizes[0]
    abs_max = np.abs(means)
    if scale is not None:
        # Each input's mean against that input's own spread of values.
        abs_max[:n_in] = scale
    else:
        abs_max[:n_in] = np.abs(means[:n_in]).max() if n_in else 1.0
    lo, hi = enc.node_levels(snap.layer_sizes, snap.activation_names, abs_max.astype(np.float32))
    words = palette.lut32[enc.lut_index(means.astype(np.float32), lo, hi)]
    frame.node_fill = [QColor.fromRgb(int(w) & 0xFFFFFF) for w in words]


def build_biases(frame: Frame, snap: Snapshot, lay: Layout) -> None:
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


def build_halos(frame: Frame, snap: Snapshot, lay: Layout, theme: Theme,
                source_deltas: tuple[Array, ...] | None = None, log_scale: bool = False) -> None:
    """Gradients view: a glow in the accent colour ∝ mean |δ| (normalised over all neurons), or
    ∝ its log over the top ``LOG_DECADES`` decades (``log_scale``); ``source_deltas`` (per
    layer 1 … L) replaces the training set's mean |δ|."""
    per_layer = snap.neurons.mean_abs_delta[1:] if source_deltas is None else source_deltas
    deltas = [np.asarray(d, dtype=np.float64) for d in per_layer if d is not None]
    if not deltas:
        return
    d = np.concatenate(deltas)
    d[~np.isfinite(d)] = 0.0
    top = d.max() if len(d) else 0.0
    if top <= 0:
        return
    norm = enc.log_fraction(d, top) if log_scale else d / top
    first = int(lay.offsets[1])
    e_max = max(3.0, min(8.0, lay.gap / 2))
    halos = []
    # Every glow colour at once (opaque: cheap to fill); one blend() per neuron cost ~9 ms on
    # 8 × 16 neurons, too much for a focus change.
    base, accent = enc.rgb(theme.base), enc.rgb(theme.accent)
    rgb = np.clip(np.round(base + (accent - base) * (0.2 + 0.6 * norm)[:, None]), 0, 255).astype(int)
    for k, v in enumerate(norm):
        if v < 0.02:
            continue
        e = 1.5 + (e_max - 1.5) * v
        r, g, b = rgb[k]
        rect = QRectF(*lay.node_rect(first + k)).adjusted(-e, -e, e, e)
        halos.append((rect, QColor(int(r), int(g), int(b))))
    frame.halos = halos


def build_example_points(frame: Frame, snap: Snapshot, lay: Layout, row: int) -> None:
    """Where the focused example sits on each node: on a heatmap, at its (x1, x2) in the input
    plane; on a 1-D curve, at its x and the node's activation for it."""
    grid = snap.grid
    x0, x1, y0, y1 = grid.extent
    index = int(snap.dataset.train_indices[row])
    point = snap.dataset.inputs[index]
    s = lay.node
    with np.errstate(all="ignore"):
        fx = np.clip((point[0] - x0) / (x1 - x0), 0.0, 1.0)
        if grid.is_2d:
            fy = np.clip((point[1] - y0) / (y1 - y0), 0.0, 1.0)
            px = lay.node_x + fx * s
            py = lay.node_y + (1.0 - fy) * s  # the image's row 0 is the plane's top
        else:
            pad = 3.0
            a = np.concatenate([np.asarray(v, dtype=np.float64) for v in example_activations(snap, row)])
            lo, hi = frame.node_levels if frame.node_levels is not None else (a - 1, a + 1)
            v = np.clip(np.nan_to_num((a - lo) / np.maximum(hi - lo, 1e-12), nan=0.5), 0.0, 1.0)
            px = lay.node_x + pad + fx * (s - 2 * pad)
            py = lay.node_y + s - pad - v * (s - 2 * pad)
    points = np.column_stack([px, py])
    if not np.isfinite(points).all():
        return
    frame.example_points = points
