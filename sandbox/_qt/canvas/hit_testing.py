"""What is under a point of the canvas: a neuron, the nearest connection, or nothing.

Pure numpy on a :class:`~.layout.Layout`.  Hover and click both call :func:`hit_test`, so the
connection highlighted under the pointer is the one a click there selects.

Connections are drawn as the polylines ``layout.conn_x``/``conn_y`` (samples of the S-curve),
so the distance measured here is the distance to what is on screen, not to the straight chord
between the nodes.
"""

from __future__ import annotations

import numpy as np

from ...session.naming import NeuronRef, WeightRef
from .layout import Layout

Array = np.ndarray

#: px beyond half a connection's drawn width that still counts as on it.
HIT_TOLERANCE = 6.0
#: px around a node (and its bias bar) that still count as on the node.
NODE_MARGIN = 2.0


def polyline_distances2(xs: Array, ys: Array, px: float, py: float) -> Array:
    """Squared distance from (px, py) to each polyline (rows of ``xs``, ``ys``: (C, P))."""
    ax, ay = xs[:, :-1], ys[:, :-1]
    dx, dy = xs[:, 1:] - ax, ys[:, 1:] - ay
    len2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0)
    ex, ey = ax + t * dx - px, ay + t * dy - py
    return (ex * ex + ey * ey).min(axis=1)


def node_at(lay: Layout, px: float, py: float) -> int | None:
    """Flat index of the node (with its bias bar underneath) at (px, py), or None."""
    s, m = lay.node, NODE_MARGIN
    inside = ((px >= lay.node_x - m) & (px <= lay.node_x + s + m)
              & (py >= lay.node_y - m) & (py <= lay.node_y + s + 4 + m))
    hits = np.flatnonzero(inside)
    return int(hits[0]) if len(hits) else None


def connection_at(lay: Layout, px: float, py: float, widths: Array | None = None) -> int | None:
    """Flat index of the connection nearest (px, py), if within HIT_TOLERANCE + half its width.

    ``widths`` are the drawn widths per connection (px); None counts every line as 1 px wide.
    Only the weight layer whose gap between columns contains ``px`` can be hit.
    """
    layer = int(np.searchsorted(lay.col_x, px, side="right") - 1)
    if not 0 <= layer < len(lay.sizes) - 1 or px < lay.col_x[layer] + lay.node:
        return None
    lo, hi = int(lay.conn_offsets[layer]), int(lay.conn_offsets[layer + 1])
    d = np.sqrt(polyline_distances2(lay.conn_x[lo:hi], lay.conn_y[lo:hi], px, py))
    half = 0.5 * (widths[lo:hi] if widths is not None else np.ones(hi - lo))
    d[d > HIT_TOLERANCE + half] = np.inf  # out of reach
    c = int(np.argmin(d))  # the nearest curve among those within reach
    if not np.isfinite(d[c]):
        return None
    return lo + c


def hit_test(lay: Layout | None, px: float, py: float, widths: Array | None = None) -> NeuronRef | WeightRef | None:
    """What is under scene point (px, py): a neuron (nodes win), a connection, or None."""
    if lay is None:
        return None
    k = node_at(lay, px, py)
    if k is not None:
        return lay.node_ref(k)
    c = connection_at(lay, px, py, widths)
    return None if c is None else lay.connection_ref(c)


def clearest_point(lay: Layout, c: int) -> tuple[float, float]:
    """A point on connection ``c``, 30–55 % along it, as far as possible from every other
    connection of its layer (so hovering or clicking there hits ``c``)."""
    layer = int(np.searchsorted(lay.conn_offsets, c, side="right") - 1)
    lo, hi = int(lay.conn_offsets[layer]), int(lay.conn_offsets[layer + 1])
    best, best_clear = None, -1.0
    for s in range(int(0.3 * (lay.samples - 1)), int(0.55 * (lay.samples - 1)) + 1):
        px, py = float(lay.conn_x[c, s]), float(lay.conn_y[c, s])
        d2 = polyline_distances2(lay.conn_x[lo:hi], lay.conn_y[lo:hi], px, py)
        d2[c - lo] = np.inf
        clear = float(d2.min()) if len(d2) else np.inf
        if clear > best_clear:
            best, best_clear = (px, py), clear
    assert best is not None
    return best
