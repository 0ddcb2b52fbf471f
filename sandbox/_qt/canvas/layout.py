"""Where everything on the canvas goes: node squares, column headers, labels, connection curves.

Pure geometry (numpy and plain tuples, no Qt), so it is testable without a display.  A
rectangle is ``(x, y, width, height)`` in scene coordinates; the Qt modules turn them into
``QRectF``.  Text sizes come in through :class:`TextMetrics`, which the widget builds from its
font.

Flat order: nodes are numbered layer by layer (``offsets[layer] + unit``), connections weight
layer by weight layer in the order of ``W_layer.ravel()`` (``conn_offsets[layer] + i·n_out + j``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ...session.naming import NeuronRef, WeightRef

Array = np.ndarray
Rect = tuple[float, float, float, float]

MIN_NODE = 22  # px: below this a heatmap stops being readable, so we scroll instead
MAX_NODE = 88  # px: beyond this nodes only eat room the connections need
MIN_SAMPLES, MAX_SAMPLES = 7, 20  # points per connection polyline, more for longer curves
#: Line segments for all connections together.  A 2-64-64-64-1 network has 8,384 connections;
#: at 19 segments each (160,000) the canvas took 29.5 ms to paint, with the budget (2 each)
#: 26 ms, measured side by side offscreen at 1400 × 900.  Most of the cost is the pixels the long
#: lines cover, not the segment count, so this saves ~10 % and no more; dense networks get fewer
#: points per curve, down to 3 (at 64 lines per node a bundle shows no curve shape anyway).
MAX_SEGMENTS = 24_000
MAX_WIDTH = 6.0  # px: the widest connection
MARGIN = 10


@dataclass(frozen=True)
class TextMetrics:
    """How wide text is in the canvas's fonts (the widget builds this from QFontMetricsF)."""

    line_height: float
    width: Callable[[str], float]  # regular font
    bold_width: Callable[[str], float]
    elide: Callable[[str, float], str]  # regular font, elided on the right to at most the width


@dataclass
class Layout:
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
    conn_x: Array  # (C, P) polyline points: the drawn curve is exactly this polyline
    conn_y: Array
    segments: Array  # (C, P-1, 4) float64: each polyline as line segments x0, y0, x1, y1
    headers: list[tuple[Rect, str, str]]  # (rect, first line, second line or "")
    legend: Rect
    labels: list[tuple[Rect, str, str]]  # (rect, text, "left" | "right" alignment)
    width: float
    height: float

    def node_rect(self, k: int) -> Rect:
        return (float(self.node_x[k]), float(self.node_y[k]), self.node, self.node)

    # ---------------------------------------------------------------- flat indices

    def node_index(self, layer: int, unit: int) -> int | None:
        if not 0 <= layer < len(self.sizes) or not 0 <= unit < self.sizes[layer]:
            return None
        return int(self.offsets[layer]) + unit

    def connection_index(self, layer: int, i: int, j: int) -> int | None:
        if not 0 <= layer < len(self.sizes) - 1:
            return None
        if not (0 <= i < self.sizes[layer] and 0 <= j < self.sizes[layer + 1]):
            return None
        return int(self.conn_offsets[layer]) + i * self.sizes[layer + 1] + j

    def node_ref(self, k: int) -> NeuronRef:
        layer = int(np.searchsorted(self.offsets, k, side="right") - 1)
        return NeuronRef(layer, k - int(self.offsets[layer]))

    def connection_ref(self, c: int) -> WeightRef:
        layer = int(np.searchsorted(self.conn_offsets, c, side="right") - 1)
        n_out = self.sizes[layer + 1]
        k = c - int(self.conn_offsets[layer])
        return WeightRef(layer, k // n_out, k % n_out)


def node_gap(node: float) -> float:
    """The vertical gap between the nodes of a column, px (whole pixels, at least 8)."""
    return max(8.0, round(0.35 * node))


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


def header_texts(layer_sizes: Sequence[int], activation_names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, detail) of each column: ("Input", "2 features"), ("Hidden 1", "tanh"), …"""
    n_layers = len(layer_sizes) - 1
    texts = [("Input", f"{layer_sizes[0]} features" if layer_sizes[0] != 1 else "1 feature")]
    for l in range(1, n_layers + 1):
        texts.append(("Output" if l == n_layers else f"Hidden {l}", activation_names[l - 1]))
    return texts


def compute_layout(sizes: Sequence[int], headers: Sequence[tuple[str, str]], feature_labels: Sequence[str],
                   class_labels: Sequence[str], width: float, height: float, metrics: TextMetrics) -> Layout:
    """Node size, column pitch and every polyline for a ``width × height`` viewport.

    Nodes are as large as fit (between MIN_NODE and MAX_NODE); if even the minimum does not
    fit, the scene grows beyond the viewport and the view scrolls.  Column headers take one
    line ("Hidden 1 · tanh") when that fits between the columns, two otherwise.  Input labels
    sit left of the input nodes, ``class_labels`` (one per output, or none) right of the outputs.
    """
    sizes = tuple(int(n) for n in sizes)
    n_cols = len(sizes)
    n_gaps = n_cols - 1
    n_max = max(sizes)
    line_h = metrics.line_height
    legend_h = line_h + 4  # the line-width scale under the network

    labels_in = [metrics.elide(t, 110) for t in feature_labels]
    left = MARGIN + (max(metrics.width(t) for t in labels_in) + 8 if labels_in else 0)
    labels_out = [metrics.elide(t, 110) for t in class_labels] if len(class_labels) == sizes[-1] > 1 else []
    right = MARGIN + (max(metrics.width(t) for t in labels_out) + 8 if labels_out else 0)

    widths = {1: [metrics.bold_width(f"{a} · {b}" if c else a) + 6 for c, (a, b) in enumerate(headers)],
              2: [max(metrics.bold_width(a), metrics.width(b)) + 6 for a, b in headers]}

    for lines in (1, 2):
        top = MARGIN + lines * line_h + 8
        avail_h = height - top - MARGIN - 6 - legend_h  # 6: the bias bar under the last node
        s_v = avail_h / (n_max + 0.35 * (n_max - 1))
        if 0.35 * s_v < 8:
            s_v = (avail_h - 8 * (n_max - 1)) / n_max
        avail_w = width - left - right
        s_h = avail_w / (1 + 2.2 * n_gaps)  # leave connections ≥ 1.2 node widths
        node = max(float(MIN_NODE), float(int(min(MAX_NODE, s_v, s_h))))
        # The gap rounds to whole pixels (up, too): shrink the node until the tallest column
        # really fits, or a 1 px overflow would ask for a scroll bar.
        while node > MIN_NODE and n_max * node + (n_max - 1) * node_gap(node) > avail_h:
            node -= 1.0
        # The edge columns' headers may stick out past their node, but not past the scene.
        first_x = max(left, widths[lines][0] / 2 - node / 2 + 2)
        right_x = max(right, widths[lines][-1] / 2 - node / 2 + 2)
        pitch = (width - first_x - right_x - node) / n_gaps if n_gaps else 0.0
        min_pitch = max(node * 2.0, node + 30, max(widths[2]))
        if lines == 1 and pitch < max(widths[1]):
            continue  # one-line headers would collide: use two lines
        pitch = max(pitch, min_pitch)
        break
    gap = node_gap(node)
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
    n_connections = conn_offsets[-1]
    samples = max(3, min(samples, MAX_SEGMENTS // max(n_connections, 1) + 1))
    conn_x, conn_y = s_curve_samples(np.concatenate(xs0), np.concatenate(ys0),
                                     np.concatenate(xs1), np.concatenate(ys1), samples)
    segments = line_segments(conn_x, conn_y)
    # n lines meet at each node: keep their bundle about as wide as the node.
    max_width = float(np.clip(1.3 * node / n_max, 1.5, MAX_WIDTH))

    header_rects: list[tuple[Rect, str, str]] = []
    for c, (a, b) in enumerate(headers):
        w = widths[lines][c]
        x0 = col_x[c] + node / 2 - w / 2
        rect = (max(2.0, min(float(x0), scene_w - w - 2)), float(MARGIN), w, lines * line_h + 2)
        header_rects.append((rect, f"{a} · {b}" if c else a, "") if lines == 1 else (rect, a, b))

    label_rects: list[tuple[Rect, str, str]] = []
    for k, text in enumerate(labels_in):
        label_rects.append(((float(MARGIN), float(node_y[k]), float(col_x[0] - 6 - MARGIN), node), text, "right"))
    for k, text in enumerate(labels_out):
        x = float(col_x[-1] + node + 6)
        label_rects.append(((x, float(node_y[offsets[-2] + k]), scene_w - x - 2, node), text, "left"))

    return Layout(
        sizes=sizes, samples=samples, max_width=max_width, node=node, gap=gap, offsets=offsets,
        node_x=node_x, node_y=node_y, col_x=col_x, conn_offsets=np.array(conn_offsets),
        conn_x=conn_x, conn_y=conn_y, segments=segments, headers=header_rects,
        legend=(float(MARGIN), scene_h - MARGIN - line_h, scene_w - 2 * MARGIN, line_h),
        # A scene that fills the viewport exactly must not come out a pixel larger from the
        # floating-point sums: that pixel would show a scroll bar.
        labels=label_rects, width=float(math.ceil(scene_w - 1e-6)), height=float(math.ceil(scene_h - 1e-6)),
    )


def layout_for_area(width: float, height: float, h_bar: float, v_bar: float,
                    lay_out: Callable[[float, float], Layout]) -> Layout:
    """The layout for a scroll area of outer size ``width × height``, whose horizontal scroll
    bar takes ``h_bar`` px of its height and vertical one ``v_bar`` px of its width.

    ``lay_out(w, h)`` lays the network out for a ``w × h`` viewport.  The result depends on the
    outer size alone, never on which scroll bars happen to be shown.  Laying out for the
    viewport instead loops forever wherever the layout for the whole area overflows it and the
    one for the area less a scroll bar fits (the bar shows, the viewport shrinks, the scene
    shrinks, the bar hides, the scene grows …; the node size depends on both sides).  Here a
    bar is planned only where the layout overflows and, once planned, is never taken back, so
    this ends after at most three layouts.  If a planned bar turns out unneeded (the smaller
    layout fits), the view hides it and the scene is a bar's width smaller than the viewport:
    stable, and barely visible.
    """
    bar_h = bar_v = False
    while True:
        w = width - (v_bar if bar_v else 0.0)
        h = height - (h_bar if bar_h else 0.0)
        lay = lay_out(w, h)
        need_h, need_v = bar_h or lay.width > w, bar_v or lay.height > h
        if (need_h, need_v) == (bar_h, bar_v):
            return lay
        bar_h, bar_v = need_h, need_v


def line_segments(conn_x: Array, conn_y: Array) -> Array:
    """(C, P-1, 4) segments x0, y0, x1, y1 of the polylines, as ``QPainter.drawLines`` takes them.

    Level connections become one segment (the rest collapse to nothing at its end).  Each
    segment reaches 0.4 px past its ends: drawn one by one, abutting antialiased segments leave
    hairline seams and overlapping ones darker beads; a small overlap closes the seams with
    barely any bead.
    """
    segments = np.stack([conn_x[:, :-1], conn_y[:, :-1], conn_x[:, 1:], conn_y[:, 1:]], axis=2)
    flat = np.abs(conn_y[:, -1] - conn_y[:, 0]) < 0.5
    segments[flat, 0, 2:] = segments[flat, -1, 2:]
    segments[flat, 1:, :2] = segments[flat, 1:, 2:] = segments[flat, -1:, 2:]
    d = segments[..., 2:] - segments[..., :2]
    d *= (0.4 / np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9))[..., None]
    segments[..., :2] -= d
    segments[..., 2:] += d
    return segments
