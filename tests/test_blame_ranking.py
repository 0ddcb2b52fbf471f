"""The blame ranking dock, driven through the real window: rows against the engine's
gradients and the applied update, clicks select, refreshes are gated while playing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from qt_helpers import wait_for_snapshot, worker_barrier
from sandbox.engine import loss_and_gradients
from sandbox.formatting import format_number, format_percent
from sandbox.session.naming import BiasRef, NeuronRef, WeightRef

pytestmark = pytest.mark.gui


def _button(window, action):
    return window.training_bar.widgetForAction(action)


def _show_ranking(window, qtbot):
    window.blame_dock.raise_()
    qtbot.waitUntil(lambda: not window.blame_ranking._hidden())
    qtbot.waitUntil(lambda: window.blame_ranking.shown is window.controller.snapshot)  # caught up once shown
    return window.blame_ranking


def _engine_ranking(window, snap):
    """Every parameter by |∂J/∂p| from the engine's gradient on the training set, by hand."""
    run = window.controller._worker._run  # read while the worker is idle (after a barrier)
    hyper = snap.hyper
    _, gw, gb = loss_and_gradients(snap.weights, snap.biases, snap.activation_names, snap.network_spec.loss,
                                   run.X_train, run.Y_train, l1=hyper.l1, l2=hyper.l2)
    rows = []
    for layer, (w, b) in enumerate(zip(gw, gb)):
        rows += [(abs(w[i, j]), WeightRef(layer, i, j), w[i, j], snap.weights[layer][i, j])
                 for i in range(w.shape[0]) for j in range(w.shape[1])]
        rows += [(abs(b[j]), BiasRef(layer, j), b[j], snap.biases[layer][j]) for j in range(b.shape[0])]
    rows.sort(key=lambda r: -r[0])
    return rows, gw, gb


def test_the_dock_is_tabbed_with_the_controls_and_toggled_from_the_view_menu(window, qtbot):
    assert window.blame_dock.objectName() == "blameDock"
    assert window.blame_dock in window.tabifiedDockWidgets(window.controls_dock)
    assert window.dockWidgetArea(window.blame_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    toggle = window.blame_dock.toggleViewAction()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert toggle in view_menu.actions()
    toggle.trigger()
    qtbot.waitUntil(lambda: window.blame_dock.isHidden())
    toggle.trigger()
    qtbot.waitUntil(lambda: not window.blame_dock.isHidden())


def test_rows_show_the_engines_largest_gradients_and_the_last_update(window, qtbot):
    ranking = _show_ranking(window, qtbot)
    c = window.controller
    assert ranking.update_table.item(0, 0).text().startswith("no update yet")
    before = c.snapshot
    qtbot.mouseClick(_button(window, window.training_bar.step_action), Qt.MouseButton.LeftButton)
    snap = wait_for_snapshot(qtbot, c, lambda s: s.step == 1)
    worker_barrier(qtbot, c)
    qtbot.waitUntil(lambda: ranking.shown is c.snapshot)
    snap = c.snapshot
    expected, gw, gb = _engine_ranking(window, snap)
    rows = ranking.rows("gradient")
    assert len(rows) == 8
    for row, (_, ref, g, value) in zip(rows, expected):
        assert row[0] == ref.name
        assert row[1] == format_number(g)
        assert row[2] == ("+" if g > 0 else "\u2212")
        assert row[3] == format_number(value)
    # by |Δp|: what the step added to each parameter
    deltas = []
    for layer in range(len(snap.weights)):
        dw = snap.weights[layer] - before.weights[layer]
        db = snap.biases[layer] - before.biases[layer]
        deltas += [(abs(dw[i, j]), WeightRef(layer, i, j).name, dw[i, j]) for i in range(dw.shape[0])
                   for j in range(dw.shape[1])]
        deltas += [(abs(db[j]), BiasRef(layer, j).name, db[j]) for j in range(db.shape[0])]
    deltas.sort(key=lambda r: -r[0])
    got = ranking.rows("update")
    assert [r[0] for r in got] == [d[1] for d in deltas[:8]]
    for row, d in zip(got, deltas):
        assert float(row[1].replace("\u2212", "-")) == pytest.approx(d[2], rel=1e-3)
    # shares of ‖∇J‖² per layer, from the engine's gradient
    squares = [float(np.sum(w ** 2) + np.sum(b ** 2)) for w, b in zip(gw, gb)]
    assert ranking.shares() == [(f"w[{k + 1}], b[{k + 1}]", format_percent(s / sum(squares)))
                                for k, s in enumerate(squares)]


def test_clicking_a_row_selects_that_parameter(window, qtbot):
    ranking = _show_ranking(window, qtbot)
    c = window.controller
    table = ranking.gradient_table
    for row in range(len(table.refs)):
        ref = table.refs[row]
        rect = table.visualItemRect(table.item(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        expected = ref.neuron if isinstance(ref, BiasRef) else ref
        qtbot.waitUntil(lambda e=expected: c.view_state.selection == e)
        assert table.selectedItems() and table.selectedItems()[0].row() == row
    assert any(isinstance(r, BiasRef) for r in table.refs)  # the default network's biases rank too
    # the canvas shows the selection, and the inspector shows it
    weight_row = next(k for k, r in enumerate(table.refs) if isinstance(r, WeightRef))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(table.item(weight_row, 0)).center())
    qtbot.waitUntil(lambda: c.view_state.selection == table.refs[weight_row])
    # the canvas paints it as the selection (its marks are drawn from the scene's selection)
    window.canvas.view.viewport().repaint()
    qtbot.waitUntil(lambda: window.canvas._scene_parts.selection == table.refs[weight_row])
    # selecting elsewhere moves the highlight off the rows
    c.select(NeuronRef(0, 0))
    assert not table.selectedItems()


def _play_until(qtbot, c, snapshots: int) -> float:
    taken = []
    c.snapshotTaken.connect(taken.append)
    start = time.monotonic()
    c.set_speed(None)
    c.play()
    qtbot.waitUntil(lambda: len(taken) >= snapshots, timeout=20_000)
    c.pause()
    elapsed = time.monotonic() - start
    c.snapshotTaken.disconnect(taken.append)
    return elapsed


def test_refreshes_are_gated_while_playing_and_stop_while_hidden(window, qtbot):
    ranking = _show_ranking(window, qtbot)
    c = window.controller
    start = ranking.refresh_count
    elapsed = _play_until(qtbot, c, 40)
    worker_barrier(qtbot, c)
    refreshes = ranking.refresh_count - start
    assert refreshes <= 5 * elapsed + 3, (refreshes, elapsed)
    qtbot.waitUntil(lambda: ranking.shown is c.snapshot)  # the gate's timer draws the newest
    # hidden behind the controls: nothing at all, then the newest snapshot once shown
    window.controls_dock.raise_()
    qtbot.waitUntil(ranking._hidden)
    hidden_start = ranking.refresh_count
    _play_until(qtbot, c, 20)
    worker_barrier(qtbot, c)
    assert ranking.refresh_count == hidden_start
    window.blame_dock.raise_()
    qtbot.waitUntil(lambda: ranking.refresh_count == hidden_start + 1)
    snap = c.snapshot
    top = max(((abs(g), k) for k, g in enumerate(np.concatenate(
        [x.ravel() for w, b in zip(snap.grad_weights, snap.grad_biases) for x in (w, b)]))))
    assert ranking.rows("gradient")[0][1].lstrip("\u2212") == format_number(top[0])
