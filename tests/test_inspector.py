"""The inspector drives real widgets against a real worker: edits reach the engine, labels follow."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PySide6.QtCore import Qt

from qt_helpers import show_view, small_run, wait_for_snapshot, worker_barrier
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox._qt.inspector import Inspector
from sandbox._qt.inspector.explanations import weight_sentence
from sandbox.formatting import format_number as _fmt
from sandbox._qt.theme import ThemeManager
from sandbox.engine import loss_and_gradients
from sandbox.session import Hyperparameters

pytestmark = pytest.mark.gui

format_number = functools.partial(_fmt, digits=6, signed=True)  # how the inspector shows numbers

WEIGHT = WeightRef(0, 1, 2)  # W_0[1, 2]: from x2 to hidden 1, neuron 3


@pytest.fixture
def setup(qtbot, qapp, make_controller):
    run = small_run(hyper=Hyperparameters(l1=0.003, l2=0.01))
    controller = make_controller(run)
    controller.test_run = run  # the engine's inputs, for independent checks
    themes = ThemeManager(qapp, "light")
    inspector = Inspector(controller, themes)
    show_view(qtbot, controller, inspector, 700, 220)
    yield inspector, controller
    themes.set_mode("light")  # the palette is application-wide: leave it as other tests expect
    themes.setParent(None)


def _number(label) -> float:
    return float(label.text().replace("\u2212", "-"))


def _data_gradient(run, snap, ref: WeightRef) -> float:
    """The data term (1/n) Σ a_i·δ_j straight from the engine: the gradient with no penalty."""
    spec = run.network_spec
    _, grads, _ = loss_and_gradients(
        snap.weights, snap.biases, spec.hidden_activations + (spec.output_activation,), spec.loss,
        run.X_train, run.Y_train, l1=0.0, l2=0.0,
    )
    return float(grads[ref.layer][ref.i, ref.j])


def _assert_rank_extremes(inspector, controller) -> None:
    """The largest |∂J/∂w| is #1, the second largest #2, the smallest #n (no ties here)."""
    snap = controller.snapshot
    refs = [WeightRef(l, i, j) for l, g in enumerate(snap.grad_weights) for i in range(g.shape[0]) for j in range(g.shape[1])]
    by_size = sorted(refs, key=lambda r: -abs(snap.grad_weights[r.layer][r.i, r.j]))
    n = len(refs)
    assert n == 2 * 4 + 4 * 2 + 2 * 1
    for ref, expected in ((by_size[0], 1), (by_size[1], 2), (by_size[-1], n)):
        controller.select(ref)
        assert inspector.rank_label.text() == f"#{expected} of {n}"


def _type(qtbot, spin, text: str) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_hint_until_something_is_selected(setup):
    inspector, controller = setup
    assert inspector.current_page() == "none"
    hint = inspector._hint_label
    assert hint.isVisibleTo(inspector) and "Click a connection or a neuron" in hint.text()
    controller.select(WEIGHT)
    assert inspector.current_page() == "weight"
    assert not hint.isVisibleTo(inspector)
    controller.select(None)
    assert inspector.current_page() == "none"


def test_weight_page_shows_route_value_gradient_and_rank(setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    snap = controller.snapshot
    w = snap.weights[0][1, 2]
    grad = snap.grad_weights[0][1, 2]
    assert inspector._weight_route.text() == "from x2 (input)  →  hidden 1, neuron 3"
    assert inspector.value_spin.value() == pytest.approx(w, abs=1e-8)
    assert inspector.grad_label.text() == format_number(grad)
    assert inspector.update_label.text() == format_number(snap.next_update[0][0][1, 2])
    # The split, against the engine: data = ∂J/∂w without penalties, l1·sign(w), l2·w.
    run = controller.test_run
    assert _number(inspector._term_labels["data"]) == pytest.approx(_data_gradient(run, snap, WEIGHT), rel=1e-5)
    assert _number(inspector._term_labels["l1"]) == pytest.approx(0.003 * np.sign(w), rel=1e-5)
    assert _number(inspector._term_labels["l2"]) == pytest.approx(0.01 * w, rel=1e-5)
    assert 0.01 * abs(w) > 1e-4 * abs(grad)  # the L2 term is big enough for the check to see it
    _assert_rank_extremes(inspector, controller)


def test_typed_weight_reaches_engine_and_labels_refresh(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    _type(qtbot, inspector.value_spin, "0.5")
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == 0.5)
    grad = snap.grad_weights[0][1, 2]
    qtbot.waitUntil(lambda: inspector.grad_label.text() == format_number(controller.snapshot.grad_weights[0][1, 2]))
    snap = controller.snapshot
    grad = snap.grad_weights[0][1, 2]
    data = _data_gradient(controller.test_run, snap, WEIGHT)
    assert _number(inspector._term_labels["data"]) == pytest.approx(data, rel=1e-5)
    assert grad == pytest.approx(data + 0.003 + 0.01 * 0.5)  # the engine's own split at w = 0.5
    assert inspector.update_label.text() == format_number(snap.next_update[0][0][1, 2])
    # The slider re-centred on the new value.
    assert inspector.value_slider.value() == 500
    assert inspector.value_slider.parent().slider_value(1000) == pytest.approx(0.5 + 1.0)
    _assert_rank_extremes(inspector, controller)


def test_slider_drag_sends_throttled_live_edits(qtbot, setup, monkeypatch):
    inspector, controller = setup
    controller.select(WEIGHT)
    w0 = controller.snapshot.weights[0][1, 2]
    sent = []
    original = controller.edit_weight
    monkeypatch.setattr(controller, "edit_weight", lambda *a: (sent.append(a), original(*a)))
    slider = inspector.value_slider
    slider.setSliderDown(True)  # the user grabs the handle …
    for position in range(510, 810, 10):  # … and drags it (30 moves within a few ms)
        slider.setValue(position)
    half = max(1.0, 2 * abs(w0))
    expected = w0 + 0.6 * half
    assert len(sent) == 1  # the leading edge goes out at once; the rest wait for the throttle
    # Snapshots that arrive mid-drag update the labels but never move the slider in the hand.
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == pytest.approx(w0 + 0.02 * half))
    qtbot.waitUntil(lambda: inspector.grad_label.text() == format_number(controller.snapshot.grad_weights[0][1, 2]))
    assert slider.value() == 800
    assert inspector.value_spin.value() == pytest.approx(expected, abs=1e-8)
    slider.setSliderDown(False)  # release: the pending last value is sent (if the timer has not yet)
    assert sent[-1] == (WeightRef(0, 1, 2), pytest.approx(expected))
    assert len(sent) == 2
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == pytest.approx(expected))
    assert slider.value() == 500  # re-centred on release


def test_slider_set_value_sends_an_edit(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    w0 = controller.snapshot.weights[0][1, 2]
    inspector.value_slider.setValue(250)
    expected = w0 - 0.5 * max(1.0, 2 * abs(w0))
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == pytest.approx(expected))


def test_neuron_bias_edits_reach_engine(qtbot, setup):
    inspector, controller = setup
    controller.select(NeuronRef(1, 2))
    assert inspector.current_page() == "neuron"
    snap = controller.snapshot
    assert inspector.bias_grad_label.text() == format_number(snap.grad_biases[0][2])
    _type(qtbot, inspector.bias_spin, "0.25")
    wait_for_snapshot(qtbot, controller, lambda s: s.biases[0][2] == 0.25)
    qtbot.waitUntil(lambda: inspector.bias_grad_label.text() == format_number(controller.snapshot.grad_biases[0][2]))
    inspector.bias_slider.setValue(750)
    wait_for_snapshot(qtbot, controller, lambda s: s.biases[0][2] == pytest.approx(0.25 + 0.5))


def test_incoming_table_click_selects_that_weight(qtbot, setup):
    inspector, controller = setup
    controller.select(NeuronRef(2, 1))  # hidden 2, neuron 2: four incoming weights
    table = inspector.incoming_table
    assert table.rowCount() == 4
    snap = controller.snapshot
    assert table.item(3, 0).text() == "neuron 4"
    assert table.item(3, 1).text() == format_number(snap.weights[1][3, 1])
    assert table.item(3, 2).text() == format_number(snap.grad_weights[1][3, 1])
    rect = table.visualRect(table.model().index(3, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert controller.selection == WeightRef(1, 3, 1)
    assert inspector.current_page() == "weight"


def test_input_node_lists_outgoing_weights(setup):
    inspector, controller = setup
    controller.select(NeuronRef(0, 0))
    assert inspector.current_page() == "neuron"
    assert inspector.incoming_table.rowCount() == 4
    assert inspector.incoming_table.item(0, 0).text() == "neuron 1"
    assert not inspector._bias_column.isVisibleTo(inspector)


def test_focused_spin_is_not_overwritten_while_playing(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    inspector.activateWindow()
    spin = inspector.value_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.selectAll()
    qtbot.keyClicks(spin, "0.123")  # typed, not yet committed
    start = controller.snapshot
    controller.play()
    snap = wait_for_snapshot(
        qtbot, controller, lambda s: s.playing and s.step > start.step + 20 and s.weights[0][1, 2] != start.weights[0][1, 2]
    )
    assert spin.text() == "0.123"
    # Everything else stays live.
    qtbot.waitUntil(lambda: inspector.grad_label.text() == format_number(controller.snapshot.grad_weights[0][1, 2]))
    controller.pause()
    wait_for_snapshot(qtbot, controller, lambda s: not s.playing)
    qtbot.keyClick(spin, Qt.Key.Key_Return)  # now commit it
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == 0.123)
    assert snap.step > start.step


def test_values_follow_training(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    start = controller.snapshot
    controller.step(25)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == start.step + 25)
    assert snap.weights[0][1, 2] != start.weights[0][1, 2]
    assert inspector.value_spin.value() == pytest.approx(snap.weights[0][1, 2], abs=1e-8)
    assert inspector.grad_label.text() == format_number(snap.grad_weights[0][1, 2])
    assert inspector.update_label.text() == format_number(snap.next_update[0][0][1, 2])


def test_numbers_use_the_shared_formatter(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    controller.edit_weight(WEIGHT, -2.5e4)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == -2.5e4)
    qtbot.waitUntil(lambda: inspector._after_label.text().endswith("e+04"))
    snap = controller.snapshot
    assert inspector._after_label.text() == _fmt(-2.5e4 + snap.next_update[0][0][1, 2], 6, signed=True)
    editor = inspector._weight_editor  # slider ends: −2.5e4 ± 2·2.5e4, hand-formatted
    assert (editor.low_label.text(), editor.high_label.text()) == ("\u22127.5e+04", "+2.5e+04")
    assert inspector._weight_title.text() == "Weight w[1][2,3]"


@pytest.mark.parametrize("optimizer, memory", [("sgd", False), ("momentum", True), ("rmsprop", True), ("adam", True)])
def test_disagreeing_step_blames_memory_only_for_optimizers_with_one(optimizer, memory):
    text = weight_sentence(grad=0.5, step=0.01, optimizer=optimizer)  # descent would decrease w
    assert "the next step will increase it" in text
    assert ("memory" in text) == memory
    assert "memory" not in weight_sentence(grad=0.5, step=-0.01, optimizer=optimizer)  # agrees


def test_focused_but_untouched_spin_stays_live(qtbot, setup):
    inspector, controller = setup
    controller.select(WEIGHT)
    inspector.activateWindow()
    inspector.value_spin.setFocus()  # e.g. the first widget in the window got the focus
    qtbot.waitUntil(inspector.value_spin.hasFocus)
    controller.step(25)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == 25)
    assert inspector.value_spin.value() == pytest.approx(snap.weights[0][1, 2], abs=1e-8)


def test_most_blamed_button_selects_the_largest_gradient(qtbot, setup):
    inspector, controller = setup
    qtbot.mouseClick(inspector._most_blamed_button, Qt.MouseButton.LeftButton)
    snap = controller.snapshot
    magnitudes = {(l, i, j): abs(g[i, j]) for l, g in enumerate(snap.grad_weights) for i, j in np.ndindex(g.shape)}
    assert controller.selection == WeightRef(*max(magnitudes, key=magnitudes.get))
    assert inspector.rank_label.text() == f"#1 of {len(magnitudes)}"
    assert not inspector._most_blamed_button.hasFocus()


def test_theme_change_recolours_captions(setup):
    from sandbox._qt.theme import DARK

    inspector, controller = setup
    inspector._themes.set_mode("dark")
    caption = inspector._grad_caption
    assert caption.palette().color(caption.foregroundRole()).name() == DARK.muted


def test_escape_abandons_a_typed_weight(qtbot, setup):
    inspector, controller = setup
    controller.select(WeightRef(0, 0, 1))
    qtbot.waitUntil(lambda: inspector.current_page() == "weight")
    before = float(controller.snapshot.weights[0][0, 1])
    generation = controller.generation
    spin = inspector.value_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "0.5")
    qtbot.keyClick(spin, Qt.Key.Key_Escape)
    inspector.setFocus()
    worker_barrier(qtbot, controller)
    assert controller.generation == generation  # no edit was sent
    assert float(controller.snapshot.weights[0][0, 1]) == before
    assert spin.value() == pytest.approx(before, abs=1e-8)


def test_huge_and_tiny_values_show_in_scientific_notation_and_parse_back(qtbot, setup):
    inspector, controller = setup
    controller.select(WeightRef(0, 0, 1))
    qtbot.waitUntil(lambda: inspector.current_page() == "weight")
    controller.edit_weight(WeightRef(0, 0, 1), -2.5e133)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][0, 1] == -2.5e133)
    qtbot.waitUntil(lambda: inspector.value_spin.text() == "-2.5e+133")
    spin = inspector.value_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "3e-2")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][0, 1] == 0.03)
