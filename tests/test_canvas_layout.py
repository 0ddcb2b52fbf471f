"""Canvas geometry (sandbox._qt.canvas.layout): no Qt needed."""

from __future__ import annotations

import json
import subprocess
import sys

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox._qt.canvas.layout import (
    MIN_NODE,
    TextMetrics,
    compute_layout,
    header_texts,
    layout_for_area,
    s_curve_samples,
)
from sandbox.session.naming import NeuronRef, WeightRef

METRICS = TextMetrics(line_height=16.0, width=lambda t: 7.0 * len(t), bold_width=lambda t: 8.0 * len(t),
                      elide=lambda t, w: t[: int(w // 7)])


def make_layout(sizes=(2, 4, 2, 1), width=700.0, height=440.0, classes=()):
    acts = ("tanh",) * (len(sizes) - 1)
    labels = [f"x{k + 1}" for k in range(sizes[0])]
    return compute_layout(sizes, header_texts(sizes, acts), labels, classes, width, height, METRICS)


def test_the_pure_canvas_modules_import_without_qt():
    code = ("import sys, json\n"
            "import sandbox._qt.canvas.layout, sandbox._qt.canvas.encoding, sandbox._qt.canvas.hit_testing\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph', 'superqt'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_one_column_per_layer_nodes_centred_and_inside_the_scene():
    lay = make_layout()
    assert lay.sizes == (2, 4, 2, 1)
    assert len(lay.node_x) == 9 and MIN_NODE <= lay.node
    for layer, n in enumerate(lay.sizes):
        ks = [lay.node_index(layer, u) for u in range(n)]
        xs = {lay.node_rect(k)[0] for k in ks}
        assert len(xs) == 1 and xs == {float(lay.col_x[layer])}
        ys = [lay.node_rect(k)[1] for k in ks]
        assert ys == sorted(ys) and len(set(ys)) == n
        assert lay.node_index(layer, n) is None
    # Columns are centred vertically: the 1-node output sits level with the middle of hidden 1.
    hidden = [lay.node_rect(lay.node_index(1, u)) for u in range(4)]
    out = lay.node_rect(lay.node_index(3, 0))
    mid = (hidden[0][1] + hidden[-1][1] + lay.node) / 2
    assert abs(out[1] + lay.node / 2 - mid) <= 1.0
    for k in range(len(lay.node_x)):
        x, y, w, h = lay.node_rect(k)
        assert 0 <= x and x + w <= lay.width and 0 <= y and y + h <= lay.height
    assert lay.width >= 700 and lay.height >= 440


def test_connections_run_from_right_edge_to_left_edge_of_node_centres_in_ravel_order():
    lay = make_layout()
    node = lay.node
    c = 0
    for layer in range(len(lay.sizes) - 1):
        for i in range(lay.sizes[layer]):
            for j in range(lay.sizes[layer + 1]):
                assert lay.connection_index(layer, i, j) == c
                assert lay.connection_ref(c) == WeightRef(layer, i, j)
                src = lay.node_rect(lay.node_index(layer, i))
                dst = lay.node_rect(lay.node_index(layer + 1, j))
                assert lay.conn_x[c, 0] == pytest.approx(src[0] + node)
                assert lay.conn_y[c, 0] == pytest.approx(src[1] + node / 2)
                assert lay.conn_x[c, -1] == pytest.approx(dst[0])
                assert lay.conn_y[c, -1] == pytest.approx(dst[1] + node / 2)
                c += 1
    assert c == lay.conn_x.shape[0] == 2 * 4 + 4 * 2 + 2
    assert lay.connection_index(3, 0, 0) is None and lay.connection_index(0, 2, 0) is None
    assert lay.node_ref(lay.node_index(2, 1)) == NeuronRef(2, 1)


def test_s_curve_leaves_and_enters_level_and_passes_the_midpoint():
    x, y = s_curve_samples(np.array([0.0]), np.array([0.0]), np.array([100.0]), np.array([40.0]), 11)
    assert x[0].tolist() == pytest.approx(np.linspace(0, 100, 11).tolist())
    # y = 40·(3s² − 2s³): 0 at s=0, 20 at s=½, 40 at s=1; flat at both ends.
    assert y[0, 0] == 0 and y[0, 5] == pytest.approx(20.0) and y[0, -1] == pytest.approx(40.0)
    assert y[0, 1] == pytest.approx(40 * (3 * 0.01 - 2 * 0.001))
    assert y[0, 1] - y[0, 0] < 0.25 * (y[0, 6] - y[0, 5])  # flat at the ends, steep in the middle


def test_segments_are_the_polylines_with_a_small_overlap():
    lay = make_layout()
    seg = lay.segments
    assert seg.shape == (lay.conn_x.shape[0], lay.samples - 1, 4)
    c = lay.connection_index(0, 0, 3)  # a sloped connection
    starts = seg[c, :, :2]
    ends = seg[c, :, 2:]
    # each segment reaches 0.4 px beyond its two polyline points
    pts = np.stack([lay.conn_x[c], lay.conn_y[c]], axis=1)
    assert np.allclose(np.hypot(*(starts - pts[:-1]).T), 0.4)
    assert np.allclose(np.hypot(*(ends - pts[1:]).T), 0.4)


def test_many_nodes_scroll_instead_of_shrinking_below_the_minimum():
    lay = make_layout(sizes=(2,) + (16,) * 8 + (1,), width=700, height=440)
    assert lay.node == MIN_NODE
    assert lay.height > 440 and lay.width > 700


def test_class_labels_sit_right_of_the_outputs():
    lay = make_layout(sizes=(2, 3, 3), classes=("red", "green", "blue"))
    right = [l for l in lay.labels if l[2] == "left"]
    assert [t for _, t, _ in right] == ["red", "green", "blue"]
    assert all(r[0] > lay.col_x[-1] + lay.node for r, _, _ in right)
    left = [l for l in lay.labels if l[2] == "right"]
    assert [t for _, t, _ in left] == ["x1", "x2"]


@pytest.mark.parametrize("sizes", [(2, 64, 64, 64, 1), (7, *(16,) * 7, 1), (2, 64, 64, 64, 64, 64, 47, 1)])
def test_dense_networks_stay_within_the_segment_budget(sizes):
    # The canvas strokes every segment on every frame while training: the budget is what keeps
    # the GUI thread's frame short (MAX_SEGMENTS' docstring has the measurements).
    from sandbox._qt.canvas.layout import MAX_SEGMENTS

    lay = make_layout(sizes, width=1400.0, height=900.0)
    n_connections = sum(a * b for a, b in zip(sizes, sizes[1:]))
    assert len(lay.conn_x) == n_connections
    assert lay.samples >= 3  # still a bend: the curves leave and reach the nodes level
    assert n_connections * (lay.samples - 1) <= max(MAX_SEGMENTS, 2 * n_connections)


def test_small_networks_keep_smooth_curves():
    from sandbox._qt.canvas.layout import MIN_SAMPLES

    assert make_layout((2, 8, 8, 1), width=1400.0, height=900.0).samples >= MIN_SAMPLES


#: The examples' architectures and a few more (narrow, wide, tall).
ARCHITECTURES = [(2, 6, 3), (3, 8, 8, 1), (2, 8, 8, 8, 8, 8, 1), (7, 8, 8, 8, 8, 8, 8, 1), (1, 8, 8, 1),
                 (2, 4, 2, 1), (2, 16, 1)]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ARCHITECTURES), st.integers(120, 2000), st.integers(100, 1200))
def test_a_layout_overflows_its_viewport_only_where_it_must_scroll(sizes, width, height):
    # A scene even a pixel larger than the viewport shows a scroll bar, and a scroll bar that
    # comes and goes with the size was how layouts looped: the gap between nodes rounds to
    # whole pixels, and used to round the tallest column a pixel past the viewport.
    lay = make_layout(sizes=sizes, width=width, height=height)
    assert lay.width >= width and lay.height >= height
    if lay.node > MIN_NODE:
        assert lay.height == height, "nodes above the minimum size fit the height exactly"
    if len(sizes) == 3 and width >= 600:
        assert lay.width == width, "three columns fit any width of 600 px or more exactly"


def _fake_layout(width, height):
    return types.SimpleNamespace(width=width, height=height)


def test_scroll_bars_are_planned_from_the_outer_size_and_never_taken_back():
    # The situation that looped: the layout for the whole area is a pixel too tall, the one
    # for the area less the vertical bar (narrower, so smaller nodes) fits: the bar showed, the
    # scene shrank, the bar hid, the scene grew …
    calls = []

    def lay_out(w, h):
        calls.append((w, h))
        return _fake_layout(w, h + 1 if w == 900 else h)

    lay = layout_for_area(900, 600, 14, 14, lay_out)
    assert calls == [(900, 600), (886, 600)]
    assert (lay.width, lay.height) == (886, 600)  # fits: the view shows no bar, for good
    # Overflowing both ways at every size: both bars, three layouts at most.
    calls.clear()
    lay = layout_for_area(900, 600, 14, 14, lambda w, h: calls.append((w, h)) or _fake_layout(w + 50, h + 50))
    assert calls == [(900, 600), (886, 586)] and (lay.width, lay.height) == (936, 636)
    # Fitting at the whole area: one layout, no bar.
    calls.clear()
    assert (layout_for_area(900, 600, 14, 14, lambda w, h: calls.append(1) or _fake_layout(w, h)).width,
            len(calls)) == (900, 1)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ARCHITECTURES), st.integers(160, 1600), st.integers(120, 1000))
def test_the_planned_layout_fits_wherever_no_scroll_bar_was_planned(sizes, width, height):
    seen = []

    def lay_out(w, h):
        seen.append((w, h))
        return make_layout(sizes=sizes, width=w, height=h)

    lay = layout_for_area(width, height, 14, 14, lay_out)
    assert len(seen) <= 3
    w, h = seen[-1]
    # No horizontal bar planned (the whole height left): the scene is no wider than what the
    # vertical bar, if planned, leaves, and the other way round.
    assert h < height or lay.width <= w
    assert w < width or lay.height <= h
    assert lay.width >= w and lay.height >= h
