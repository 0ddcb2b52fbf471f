"""Following one example through the real widgets: click a point, the keys, the data-source
switch, the canvas, the inspector and its Examples tab.  Numbers are checked against the
engine run on that one example alone (its gradient is its a_i·δ_j)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from qt_helpers import show_view, small_run, wait_for_snapshot, worker_barrier
from test_output_view import csv_dataset

from sandbox._qt.canvas import frame as frames
from sandbox._qt.output_view import OutputView
from sandbox.analysis.example_focus import largest_loss_row
from sandbox.engine import loss_and_gradients
from sandbox.formatting import format_number
from sandbox.session import DataSpec, NetworkSpec, TrainingRun
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox.session.scoring import encode_targets
from sandbox.viewstate import DataSource

pytestmark = pytest.mark.gui


def engine_alone(snap, row):
    """The engine on training row ``row`` alone, unregularised: (ℓ, ∂ℓ/∂W, ∂ℓ/∂b = δ)."""
    X = np.asarray(snap.train_pass.forward.activations[0])
    Y = encode_targets(snap.dataset, snap.network_spec.output_activation)[snap.dataset.train_indices]
    return loss_and_gradients(snap.weights, snap.biases, snap.activation_names, snap.network_spec.loss,
                              X[row:row + 1], Y[row:row + 1])


def click_scene(qtbot, view: OutputView, scene_pos: QPointF) -> None:
    pos = view.plot_widget.mapFromScene(scene_pos)
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def empty_spot(view: OutputView) -> QPointF:
    """A scene point inside the plot farther than the click radius from every training point."""
    vb = view.plot_widget.getPlotItem().getViewBox()
    rect = vb.sceneBoundingRect()
    for fx in np.linspace(0.05, 0.95, 19):
        for fy in np.linspace(0.05, 0.95, 19):
            p = QPointF(rect.left() + fx * rect.width(), rect.top() + fy * rect.height())
            if view.focus.row_at(p) is None:
                return p
    raise AssertionError("no empty spot in the plot")


RUNS = {
    "classification2d": lambda: small_run(),
    "regression2d": lambda: small_run(data=DataSpec("plane", n_points=200, seed=1)),
    "curve1d": lambda: small_run(data=DataSpec("sine", n_points=200, seed=1)),
    "predicted_vs_actual": lambda: TrainingRun.create(csv_dataset("classification"), network=NetworkSpec((3,), ("tanh",))),
}


@pytest.mark.parametrize("mode", list(RUNS))
def test_clicking_a_point_focuses_it_and_rings_it(qtbot, make_controller, themes, mode):
    controller = make_controller(RUNS[mode]())
    view = show_view(qtbot, controller, OutputView(controller, themes), 360, 360)
    qtbot.waitUntil(lambda: view.mode == mode)
    n = controller.snapshot.train_pass.n_rows
    xy = view.train_positions()
    assert xy.shape == (n, 2)
    # A point whose nearest neighbour is not on top of it (jittered or not, points can overlap).
    for row in (n // 3, n // 2, 7, 1):
        if view.focus.row_at(view.focus.point_scene_pos(row)) == row:
            break
    click_scene(qtbot, view, view.focus.point_scene_pos(row))
    qtbot.waitUntil(lambda: controller.view_state.focused_example == row)
    assert controller.view_state.data_source is DataSource.EXAMPLE
    np.testing.assert_allclose(view.focus.focus_item.data["x"], [xy[row, 0]])
    np.testing.assert_allclose(view.focus.focus_item.data["y"], [xy[row, 1]])
    # Empty space does not clear the focus.
    click_scene(qtbot, view, empty_spot(view))
    assert controller.view_state.focused_example == row
    controller.focus_example(None)
    assert len(view.focus.focus_item.data) == 0


def test_driver_rings_are_the_examples_with_the_largest_terms_by_sign(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    controller.step(30)
    view = show_view(qtbot, controller, OutputView(controller, themes), 360, 360)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == 30)
    ref = WeightRef(1, 2, 1)
    controller.select(ref)
    qtbot.waitUntil(lambda: len(view.focus.drivers) > 0)
    n = snap.train_pass.n_rows
    engine = np.array([engine_alone(snap, r)[1][ref.layer][ref.i, ref.j] for r in range(n)])
    top = np.argsort(-np.abs(engine), kind="stable")[:8]
    xy = view.train_positions()
    for sign, item in view.focus.driver_items.items():
        want = sorted(tuple(xy[r]) for r in top if np.sign(engine[r]) == sign)
        got = sorted(zip(item.data["x"], item.data["y"]))
        np.testing.assert_allclose(np.array(got).reshape(-1, 2), np.array(want).reshape(-1, 2))
    controller.select(NeuronRef(1, 0))
    qtbot.waitUntil(lambda: all(len(item.data) == 0 for item in view.focus.driver_items.values()))


def test_keys_step_through_examples_and_escape_goes_back(qtbot, window):
    c = window.controller
    n = c.snapshot.train_pass.n_rows
    target = lambda: QApplication.focusWidget() or window  # noqa: E731
    qtbot.keyClick(target(), Qt.Key.Key_BracketRight)
    qtbot.waitUntil(lambda: c.view_state.focused_example == 0)
    assert c.view_state.data_source is DataSource.EXAMPLE
    qtbot.keyClick(target(), Qt.Key.Key_BracketRight)
    qtbot.waitUntil(lambda: c.view_state.focused_example == 1)
    qtbot.keyClick(target(), Qt.Key.Key_BracketLeft)
    qtbot.keyClick(target(), Qt.Key.Key_BracketLeft)
    qtbot.waitUntil(lambda: c.view_state.focused_example == n - 1)  # wraps around
    qtbot.keyClick(target(), Qt.Key.Key_L)
    snap = c.snapshot
    losses = [engine_alone(snap, r)[0] for r in range(n)]
    qtbot.waitUntil(lambda: c.view_state.focused_example == int(np.argmax(losses)))
    qtbot.keyClick(target(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: c.view_state.focused_example is None)
    assert c.view_state.data_source is DataSource.TRAINING_SET
    # the keys are in the Help text and the menu's tooltips
    from sandbox._qt.main_window.messages import HELP_TEXT

    assert "]" in HELP_TEXT and "[" in HELP_TEXT and "L " in HELP_TEXT and "Esc" in HELP_TEXT
    assert "(L)" in window.largest_loss_action.toolTip()


def test_escape_while_typing_a_weight_abandons_the_typing_not_the_focus(qtbot, window):
    c = window.controller
    c.focus_example(3)
    c.select(WeightRef(0, 0, 0))
    qtbot.waitUntil(lambda: window.inspector.current_page() == "weight")
    spin = window.inspector.value_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    qtbot.keyClicks(spin, "9")
    qtbot.keyClick(spin, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not spin.hasFocus())
    assert c.view_state.focused_example == 3


def test_the_switch_follows_and_sets_the_data_source(qtbot, window):
    c = window.controller
    switch = window.canvas.source_switch
    buttons = switch.buttons
    c.reset()
    wait_for_snapshot(qtbot, c, lambda s: s.batch_pass is None)
    qtbot.waitUntil(lambda: not buttons[DataSource.LAST_BATCH].isEnabled())
    assert not buttons[DataSource.EXAMPLE].isEnabled()
    assert buttons[DataSource.TRAINING_SET].isChecked()
    c.step()
    wait_for_snapshot(qtbot, c, lambda s: s.batch_pass is not None)
    qtbot.waitUntil(lambda: buttons[DataSource.LAST_BATCH].isEnabled())
    qtbot.mouseClick(buttons[DataSource.LAST_BATCH], Qt.MouseButton.LeftButton)
    assert c.view_state.data_source is DataSource.LAST_BATCH
    c.focus_example(5)
    index = int(c.snapshot.dataset.train_indices[5])
    qtbot.waitUntil(lambda: buttons[DataSource.EXAMPLE].isChecked())
    assert buttons[DataSource.EXAMPLE].text() == f"Example #{index}"
    qtbot.mouseClick(buttons[DataSource.TRAINING_SET], Qt.MouseButton.LeftButton)
    assert c.view_state.data_source is DataSource.TRAINING_SET
    assert c.view_state.focused_example == 5  # the focus stays: Example returns to it
    qtbot.mouseClick(buttons[DataSource.EXAMPLE], Qt.MouseButton.LeftButton)
    assert c.view_state.data_source is DataSource.EXAMPLE
    text = window.canvas.source_bar.example_label.text()
    loss = engine_alone(c.snapshot, 5)[0]
    assert f"loss ℓ = {format_number(loss)}" in text and "target class" in text


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def test_canvas_gradients_follow_the_source(qtbot, window):
    c = window.controller
    c.step(20)
    snap = wait_for_snapshot(qtbot, c, lambda s: s.step == 20)
    window.canvas.set_view_mode("gradients")
    c.focus_example(4)
    _, grads, deltas = engine_alone(snap, 4)
    want = _flat(grads)
    qtbot.waitUntil(lambda: "aᵢ·δⱼ" in window.canvas.caption_text())
    frame = window.canvas._frame
    assert f"thickest = {format_number(np.abs(want).max())}" in frame.legend
    assert "no L1/L2" in frame.legend
    np.testing.assert_array_equal(frame.conn_color, np.sign(want).astype(np.int8))
    # The glow follows the example's |δ|: the neuron with the largest |δ| has the widest halo.
    d = np.abs(_flat(deltas))
    widths = [rect.width() for rect, _ in frame.halos]
    assert len(widths) == np.count_nonzero(d / d.max() >= 0.02)
    # Every node carries the example's mark.
    assert frame.example_points is not None and len(frame.example_points) == sum(snap.layer_sizes)
    # Last batch: the batch pass's gradients; training set: the snapshot's.
    qtbot.mouseClick(window.canvas.source_switch.buttons[DataSource.LAST_BATCH], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "last batch" in window.canvas.caption_text())
    values, _ = frames.connection_values(snap, "gradients", window.canvas._source_values(snap))
    np.testing.assert_array_equal(values, _flat(snap.batch_pass.backward.grad_weights))
    qtbot.mouseClick(window.canvas.source_switch.buttons[DataSource.TRAINING_SET], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "full training set" in window.canvas.caption_text())
    np.testing.assert_array_equal(np.sign(_flat(snap.grad_weights)).astype(np.int8), window.canvas._frame.conn_color)


def test_inspector_shows_the_example_beside_the_averages(qtbot, window):
    c = window.controller
    c.step(20)
    snap = wait_for_snapshot(qtbot, c, lambda s: s.step == 20)
    ref = WeightRef(1, 3, 0)
    c.select(ref)
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.current_page() == "weight")
    assert not inspector.example_term_label.isVisible()
    c.focus_example(9)
    _, grads, deltas = engine_alone(snap, 9)
    qtbot.waitUntil(inspector.example_term_label.isVisible)
    assert inspector.example_term_label.text() == format_number(grads[ref.layer][ref.i, ref.j], 6, signed=True)
    c.select(NeuronRef(2, 1))
    qtbot.waitUntil(lambda: inspector.current_page() == "neuron")
    a = snap.train_pass.forward.activations[2][9, 1]
    qtbot.waitUntil(lambda: inspector.example_values[1].isVisible())
    assert inspector.example_values[0].text() == format_number(a, 6, signed=True)
    assert inspector.example_values[1].text() == format_number(deltas[1][1], 6, signed=True)


def test_examples_tab_lists_the_drivers_and_clicking_one_focuses_it(qtbot, window):
    c = window.controller
    c.step(20)
    snap = wait_for_snapshot(qtbot, c, lambda s: s.step == 20)
    tab = window.inspector.example_view
    window.inspector.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible)
    assert tab.title_label.text() == "No example followed"
    ref = WeightRef(0, 1, 2)
    c.select(ref)
    qtbot.waitUntil(lambda: tab.drivers_table.rowCount() > 0)
    n = snap.train_pass.n_rows
    engine = np.array([engine_alone(snap, r)[1][0][ref.i, ref.j] for r in range(n)])
    best = int(np.argmax(np.abs(engine)))
    assert tab.drivers[0].row == best
    assert tab.drivers_table.item(0, 1).text() == format_number(engine[best], 6, signed=True)
    share = engine[best] / engine.sum()
    assert tab.drivers_table.item(0, 2).text() == f"{100 * share:.1f}%"
    # Clicking the second row follows that example; the tab then shows it.
    second = tab.drivers[1].row
    table = tab.drivers_table
    rect = table.visualItemRect(table.item(1, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: c.view_state.focused_example == second)
    index = int(snap.dataset.train_indices[second])
    qtbot.waitUntil(lambda: tab.title_label.text().startswith(f"Example #{index}"))
    loss = engine_alone(snap, second)[0]
    assert tab.value_labels["loss"].text() == format_number(loss, 6)
    target = snap.dataset.targets[index]
    assert tab.value_labels["target"].text() == f"class {snap.dataset.class_names[int(target)]}"
    qtbot.mouseClick(tab.largest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.view_state.focused_example == largest_loss_row(c.snapshot))


def test_focus_is_cleared_when_the_data_changes_size(qtbot, window):
    c = window.controller
    n = c.snapshot.train_pass.n_rows
    c.focus_example(n - 1)
    c.reconfigure(data=DataSpec(n_points=40, seed=2))
    wait_for_snapshot(qtbot, c, lambda s: s.train_pass.n_rows < n)
    assert c.view_state.focused_example is None
    assert c.view_state.data_source is DataSource.TRAINING_SET
    worker_barrier(qtbot, c)


def test_the_benchmark_times_focus_changes_through_the_key(qtbot, window):
    from sandbox._qt.gui_bench import SESSIONS, _focus_refresh_times
    from sandbox.bench import GUI_TARGETS, format_gui_table

    times = _focus_refresh_times(window, 4)
    assert len(times) == 4 and all(0 < t < float("inf") for t in times)
    assert window.controller.view_state.focused_example is None  # it cleans up
    run = SESSIONS["deep_8x16"][0]()
    assert run.layer_sizes[1:-1] == (16,) * 8 and len(run.X_train) == 1000
    assert "focus_refresh_p95_ms" in GUI_TARGETS
    row = {metric: 1.0 for metric in GUI_TARGETS}
    assert "focus_refresh_p95_ms" in format_gui_table({"deep_8x16": row})
