"""Per-layer histograms: the bins and counts (Qt-free, hand-picked values and the engine's arrays)
and View ▸ Histograms…, a non-modal window refreshed from snapshots while it is open."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import wait_for_snapshot

from sandbox.analysis.histograms import histogram, layer_histograms
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.snapshot import HistoryCursor, make_snapshot

pytestmark = pytest.mark.gui  # the window tests; the maths tests need no Qt


def test_hand_picked_values_fall_in_the_right_bins():
    h = histogram(np.array([0.0, 0.1, 0.5, 0.9, 1.0, np.nan, np.inf]), 3, bins=2)
    assert h.layer == 3 and h.edges.tolist() == [0.0, 0.5, 1.0]
    assert h.counts.tolist() == [2, 3] and h.nonfinite == 2 and h.total == 7
    one = histogram(np.array([3.0, 3.0]), 0, bins=2)  # a single value: a bin either side of it
    assert one.edges.tolist() == [1.5, 3.0, 4.5] and one.counts.tolist() == [0, 2]
    huge = histogram(np.array([-1e308, 1e308]), 0, bins=2)  # the span overflows a double
    assert all(math.isfinite(e) for e in huge.edges) and huge.counts.tolist() == [1, 1]
    empty = histogram(np.array([np.nan]), 0, bins=4)
    assert empty.counts.sum() == 0 and empty.nonfinite == 1
    pinned = histogram(np.array([0.2, 0.7]), 1, bins=4, value_range=(-1.0, 1.0))
    assert pinned.edges.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0] and pinned.counts.tolist() == [0, 0, 1, 1]


def make_run() -> TrainingRun:
    return TrainingRun.create(
        DataSpec("circle", n_points=120, seed=2),
        network=NetworkSpec((5, 4), ("relu", "tanh")),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=0.1, batch_size=10), seed=3)


def test_layer_histograms_count_every_entry_of_the_engines_arrays():
    run = make_run()
    run.train(30)
    snap = make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)
    inspection = run.inspect()
    for kind, arrays in (("weights", run.weights), ("gradients", inspection.backward.grad_weights),
                         ("activations", inspection.forward.activations[1:])):
        hists = layer_histograms(snap, kind)
        assert len(hists) == len(arrays)
        for h, a in zip(hists, arrays):
            assert h.total == a.size
            expected, _ = np.histogram(a, bins=h.edges)
            assert h.counts.tolist() == expected.tolist()
    acts = layer_histograms(snap, "activations")
    assert acts[1].edges[0] == -1.0 and acts[1].edges[-1] == 1.0  # tanh: its whole range
    assert acts[0].edges[0] == inspection.forward.activations[1].min()  # relu: the values' range
    with pytest.raises(ValueError):
        layer_histograms(snap, "biases")


def test_view_histograms_opens_a_non_modal_window_that_follows_training(qtbot, window):
    c = window.controller
    c.new_session(make_run())
    wait_for_snapshot(qtbot, c, lambda s: s.layer_sizes == (2, 5, 4, 1))
    view_menu = [m for m in window.menuBar().actions() if m.text() == "&View"][0].menu()
    assert window.histograms_action in view_menu.actions()
    window.histograms_action.trigger()
    hw = window.histograms_window
    qtbot.waitUntil(hw.isVisible)
    assert not hw.isModal() and hw.isWindow()
    assert len(hw.plots) == 3 and hw.kind == "weights"
    snap = c.snapshot
    for h, w in zip(hw.histograms, snap.weights):
        assert h.counts.tolist() == np.histogram(w, bins=h.edges)[0].tolist()

    qtbot.mouseClick(hw.kind_buttons["activations"], Qt.MouseButton.LeftButton)
    assert hw.kind == "activations" and len(hw.plots) == 3  # hidden 1, hidden 2, output
    assert "Hidden 2 · tanh" in hw._titles[1].text()  # noqa: SLF001

    # Training goes on behind it (non-modal), and it follows.
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: hw.caption.text().startswith("step 1 "), timeout=5000)
    acts = c.snapshot.train_pass.forward.activations
    for h, a in zip(hw.histograms, acts[1:]):
        assert h.counts.tolist() == np.histogram(a, bins=h.edges)[0].tolist()

    # Closed, it does nothing; opened again, it catches up at once.
    hw.close()
    c.step(3)
    wait_for_snapshot(qtbot, c, lambda s: s.step == 4)
    assert hw.caption.text().startswith("step 1 ") and not hw._timer.isActive()  # noqa: SLF001
    window.histograms_action.trigger()
    assert hw.caption.text().startswith("step 4 ")
