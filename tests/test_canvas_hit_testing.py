"""What a click picks (sandbox._qt.canvas.hit_testing): no Qt needed.

Expectations come from the S-curve's formula sampled densely here, not from the module's own
polylines: a click picks the connection whose drawn curve is nearest, within a tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_canvas_layout import make_layout

from sandbox._qt.canvas.hit_testing import HIT_TOLERANCE, clearest_point, hit_test
from sandbox.session.naming import NeuronRef, WeightRef


def true_curve(lay, c, n=4001):
    """Dense points of connection c's S-curve, y = y0 + (y1 − y0)(3s² − 2s³)."""
    x0, y0, x1, y1 = lay.conn_x[c, 0], lay.conn_y[c, 0], lay.conn_x[c, -1], lay.conn_y[c, -1]
    s = np.linspace(0, 1, n)
    return x0 + (x1 - x0) * s, y0 + (y1 - y0) * (3 * s**2 - 2 * s**3)


def distance(lay, c, px, py):
    x, y = true_curve(lay, c)
    return float(np.min(np.hypot(x - px, y - py)))


def normal_at(lay, c, s):
    """Point at parameter s on curve c and the unit normal there."""
    x0, y0, x1, y1 = lay.conn_x[c, 0], lay.conn_y[c, 0], lay.conn_x[c, -1], lay.conn_y[c, -1]
    px, py = x0 + (x1 - x0) * s, y0 + (y1 - y0) * (3 * s**2 - 2 * s**3)
    tx, ty = x1 - x0, (y1 - y0) * 6 * s * (1 - s)
    n = np.hypot(tx, ty)
    return (px, py), (-ty / n, tx / n)


@pytest.fixture
def lay():
    return make_layout(sizes=(2, 2, 1), width=700, height=440)


def test_a_click_a_few_pixels_off_a_line_selects_it(lay):
    widths = np.full(lay.conn_x.shape[0], 0.5)
    checked = 0
    for c in range(lay.conn_x.shape[0]):
        ref = lay.connection_ref(c)
        for s in (0.2, 0.35, 0.65, 0.8):
            (px, py), (nx, ny) = normal_at(lay, c, s)
            for side in (1, -1):
                for off in (3.0, 4.0, 5.5):
                    qx, qy = px + side * off * nx, py + side * off * ny
                    nearest = min(range(lay.conn_x.shape[0]), key=lambda k: distance(lay, k, qx, qy))
                    others = sorted(distance(lay, k, qx, qy) for k in range(lay.conn_x.shape[0]) if k != c)
                    if nearest != c or others[0] < off + 1.0:
                        continue  # another line is as near: covered by the crossing test
                    assert hit_test(lay, qx, qy, widths) == ref, (ref, s, side, off)
                    checked += 1
    assert checked > 30


def test_the_curve_not_the_chord_is_what_counts(lay):
    c = lay.connection_index(0, 0, 1)  # from the top input to the lower hidden node: sloped
    x0, y0, x1, y1 = lay.conn_x[c, 0], lay.conn_y[c, 0], lay.conn_x[c, -1], lay.conn_y[c, -1]
    s = 0.15
    on_curve = (x0 + (x1 - x0) * s, y0 + (y1 - y0) * (3 * s**2 - 2 * s**3))
    on_chord = (x0 + (x1 - x0) * s, y0 + (y1 - y0) * s)
    assert distance(lay, c, *on_chord) > HIT_TOLERANCE + 2  # the chord is far from the drawn line
    assert hit_test(lay, *on_curve) == WeightRef(0, 0, 1)
    assert hit_test(lay, *on_chord) != WeightRef(0, 0, 1)


def test_near_a_crossing_the_nearer_line_wins(lay):
    a, b = lay.connection_index(0, 0, 1), lay.connection_index(0, 1, 0)  # they cross mid-way
    mx = (lay.conn_x[a, 0] + lay.conn_x[a, -1]) / 2
    my = (lay.conn_y[a, 0] + lay.conn_y[a, -1]) / 2
    checked = 0
    for dx in np.arange(-12, 12.5, 1.5):
        for dy in np.arange(-6, 6.5, 1.5):
            px, py = mx + dx, my + dy
            da, db = distance(lay, a, px, py), distance(lay, b, px, py)
            if abs(da - db) < 1.0 or min(da, db) > HIT_TOLERANCE:
                continue  # too close to call (the drawn polyline is within ½ px of the curve)
            expected = lay.connection_ref(a if da < db else b)
            assert hit_test(lay, px, py) == expected, (dx, dy, da, db)
            checked += 1
    assert checked > 40


def test_far_from_every_line_is_nothing_and_nodes_win(lay):
    c = lay.connection_index(0, 0, 0)  # level
    (px, py), _ = normal_at(lay, c, 0.5)
    assert hit_test(lay, px, py - 6.0 - 0.25 - 1.5) is None  # beyond 6 px + half of 0.5 px
    assert hit_test(lay, px, py - 5.5, np.full(6, 0.5)) == WeightRef(0, 0, 0)
    x, y, w, h = lay.node_rect(lay.node_index(1, 1))
    assert hit_test(lay, x + w / 2, y + h / 2) == NeuronRef(1, 1)
    assert hit_test(lay, x + w / 2, y + h + 5) == NeuronRef(1, 1)  # the bias bar is the node's
    assert hit_test(None, 0, 0) is None
    assert hit_test(lay, 1.0, lay.height - 1.0) is None


def test_a_thick_line_is_hit_over_its_whole_drawn_width(lay):
    c = lay.connection_index(0, 0, 0)
    (px, py), _ = normal_at(lay, c, 0.5)
    widths = np.full(lay.conn_x.shape[0], 0.5)
    assert hit_test(lay, px, py - 9.0, widths) is None
    widths[c] = 6.0
    assert hit_test(lay, px, py - 9.0, widths) == WeightRef(0, 0, 0)  # 9 − 3 = 6 px from its edge


def test_clearest_point_is_on_its_connection_and_hits_it(lay):
    for c in range(lay.conn_x.shape[0]):
        x, y = clearest_point(lay, c)
        assert distance(lay, c, x, y) < 0.5
        assert hit_test(lay, x, y) == lay.connection_ref(c)
