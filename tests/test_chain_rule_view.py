"""The inspector's chain-rule tab, driven through its widgets: the numbers are the engine's,
rows walk downstream, the incoming weights upstream, and Back / Alt+← / a crumb return."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from qt_helpers import wait_for_snapshot
from sandbox.formatting import format_number
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox.viewstate import DataSource

pytestmark = pytest.mark.gui


def num(x: float) -> str:
    return format_number(x, 4, signed=True)


def open_tab(qtbot, window):
    """Click the inspector's "Chain rule" tab; return the view."""
    tabs = window.inspector.tabs
    bar = tabs.tabBar()
    index = next(k for k in range(tabs.count()) if tabs.tabText(k) == "Chain rule")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    view = window.inspector.chain_rule
    qtbot.waitUntil(view.isVisible)
    return view


def click_row(qtbot, table, row: int) -> None:
    item = table.item(row, 0)
    table.scrollToItem(item)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(item).center())


def cells(table, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_a_weight_shows_its_gradient_and_the_delta_table_of_the_neuron_it_feeds(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    ref = WeightRef(0, 1, 2)  # x2 → hidden 1, neuron 3
    c.select(ref)
    snap = c.snapshot
    qtbot.waitUntil(lambda: view.delta_table.rowCount() == snap.layer_sizes[2])
    text = view.formula_label.text()
    assert f"∂J/∂{ref.name}" in text
    assert num(snap.grad_weights[0][1, 2]) in text  # the engine's gradient
    deltas = snap.train_pass.backward.deltas  # the engine's δ per example
    assert f"mean δ<sub>j</sub> = <b>{num(deltas[0][:, 2].mean())}</b>" in text
    shares = 0.0
    for k in range(snap.layer_sizes[2]):
        w, d = snap.weights[1][2, k], deltas[1][:, k].mean()
        row = cells(view.delta_table, k)
        assert row[1:4] == [num(w), num(d), num(w * d)]
        shares += float(row[4].rstrip("%"))
    assert shares == pytest.approx(100, abs=2)
    # the incoming table: every weight into hidden 1, neuron 3, with its gradient; ours selected
    assert view.incoming_table.rowCount() == snap.layer_sizes[0]
    assert cells(view.incoming_table, 1)[0] == ref.name
    assert cells(view.incoming_table, 1)[3] == num(snap.grad_weights[0][1, 2])
    assert view.incoming_table.selectionModel().isRowSelected(1)
    assert "averaged over the training set" in view.source_label.text()


def test_walking_downstream_to_the_loss_and_back(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    start = WeightRef(0, 0, 1)
    c.select(start)
    qtbot.waitUntil(lambda: view.delta_table.rowCount() == 2)
    assert not view.back_button.isEnabled()
    click_row(qtbot, view.delta_table, 1)  # → hidden 2, neuron 2
    qtbot.waitUntil(lambda: c.selection == NeuronRef(2, 1))
    assert view.trail == [start, NeuronRef(2, 1)]
    click_row(qtbot, view.delta_table, 0)  # → the output neuron
    qtbot.waitUntil(lambda: c.selection == NeuronRef(3, 0))
    snap = c.snapshot
    text = view.formula_label.text()
    assert "comes from the loss" in text and "δ = a − y" in text
    assert num(snap.train_pass.backward.deltas[-1][:, 0].mean()) in text
    assert view.delta_table.rowCount() == 0
    assert view.breadcrumb.text().count("<a href") == 2
    # Alt+← (the window's action) goes back one step; the Back button another
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: c.selection == NeuronRef(2, 1))
    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.selection == start)
    assert view.trail == [start] and not view.back_button.isEnabled()
    assert not view.back()  # nowhere further back


def test_walking_upstream_from_the_loss_and_returning_by_a_crumb(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    c.select(NeuronRef(3, 0))
    qtbot.waitUntil(lambda: view.incoming_table.rowCount() == 2)
    click_row(qtbot, view.incoming_table, 1)  # → w[3][2,1], into the output
    qtbot.waitUntil(lambda: c.selection == WeightRef(2, 1, 0))
    click_row(qtbot, view.incoming_table, 0)  # a sibling weight into the same neuron
    qtbot.waitUntil(lambda: c.selection == WeightRef(2, 0, 0))
    assert len(view.trail) == 3
    view.breadcrumb.linkActivated.emit("0")  # the first crumb: back to the output neuron
    qtbot.waitUntil(lambda: c.selection == NeuronRef(3, 0))
    assert view.trail == [NeuronRef(3, 0)]


def test_a_selection_made_elsewhere_starts_a_new_trail(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    c.select(WeightRef(0, 0, 0))
    qtbot.waitUntil(lambda: view.delta_table.rowCount() == 2)
    click_row(qtbot, view.delta_table, 0)
    qtbot.waitUntil(lambda: len(view.trail) == 2)
    c.select(WeightRef(1, 2, 1))  # as a canvas click does
    assert view.trail == [WeightRef(1, 2, 1)]


def test_at_the_focused_example_the_tab_shows_that_examples_own_terms(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    ref = WeightRef(1, 3, 0)
    c.select(ref)
    r = 7
    c.view_state.focused_example = r
    c.view_state.data_source = DataSource.EXAMPLE
    qtbot.waitUntil(lambda: "example #8" in view.source_label.text())
    snap = c.snapshot
    a = snap.train_pass.forward.activations[1][r, 3]
    deltas = snap.train_pass.backward.deltas
    d = deltas[1][r, 0]
    text = view.formula_label.text()
    assert f"= {num(a)} × {num(d)} = <b>{num(a * d)}</b>" in text
    # δ_j at this example = f′(z_j) · Σ_k w_jk δ_k, with this example's δ_k
    for k in range(snap.layer_sizes[3]):
        assert cells(view.delta_table, k)[2] == num(deltas[2][r, k])
    assert f"<b>{num(d)}</b>" in text
    # back to the average
    c.view_state.data_source = DataSource.TRAINING_SET
    qtbot.waitUntil(lambda: "training set" in view.source_label.text())
    assert num(snap.grad_weights[1][3, 0]) in view.formula_label.text()


def test_the_last_batch_source_uses_the_batch_pass(qtbot, window):
    view = open_tab(qtbot, window)
    c = window.controller
    c.step(3)
    snap = wait_for_snapshot(qtbot, c, lambda s: s.step == 3 and s.batch_pass is not None)
    c.select(WeightRef(0, 1, 1))
    c.view_state.data_source = DataSource.LAST_BATCH
    qtbot.waitUntil(lambda: "mini-batch" in view.source_label.text())
    batch = snap.batch_pass
    assert num(batch.backward.grad_weights[0][1, 1]) in view.formula_label.text()
    assert f"n = {batch.n_rows}" in view.formula_label.text()


def test_the_tab_does_no_work_while_hidden(qtbot, window):
    view = window.inspector.chain_rule
    assert not view.isVisible()
    c = window.controller
    c.select(WeightRef(0, 0, 0))
    fired = []
    view.refreshed.connect(lambda: fired.append(1))
    c.step(2)
    wait_for_snapshot(qtbot, c, lambda s: s.step == 2)
    assert fired == []
    open_tab(qtbot, window)
    qtbot.waitUntil(lambda: fired != [])
    assert f"∂J/∂{WeightRef(0, 0, 0).name}" in view.formula_label.text()


def test_the_summary_tab_catches_up_when_brought_back(qtbot, window):
    """With the chain-rule tab in front the summary waits; clicking its tab shows the new
    selection at once."""
    c = window.controller
    inspector = window.inspector
    c.select(WeightRef(0, 0, 0))
    qtbot.waitUntil(lambda: WeightRef(0, 0, 0).name in inspector._weight_title.text())
    open_tab(qtbot, window)
    c.select(WeightRef(1, 2, 1))
    assert WeightRef(0, 0, 0).name in inspector._weight_title.text()  # not redrawn behind the tab
    bar = inspector.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    qtbot.waitUntil(lambda: WeightRef(1, 2, 1).name in inspector._weight_title.text())
    snap = c.snapshot
    assert inspector.grad_label.text() == format_number(snap.grad_weights[1][2, 1], 6, signed=True)
