"""Phase stepping, explained, in the real window: each stepped phase animates on the canvas
(under a second), leaves its values on the neurons and a caption under the network; the numbers
are checked against the engine.  Switched off, nothing animates; playing never animates; a
snapshot arriving mid-animation ends it."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qt_helpers import wait_for_snapshot, worker_barrier
from sandbox._qt.app_settings import animate_phase_steps, set_animate_phase_steps
from sandbox._qt.canvas.phase_animation import DURATION_MS, HINT
from sandbox.engine import loss_and_gradients
from sandbox.formatting import format_number
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox.viewstate import DataSource, ViewMode

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def animation_on():
    set_animate_phase_steps(True)
    yield
    set_animate_phase_steps(True)


def _phase_key(window, qtbot):
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)


def _phase_button(window, qtbot):
    qtbot.mouseClick(window.training_bar.widgetForAction(window.training_bar.phase_action), Qt.MouseButton.LeftButton)


def _run(window):
    return window.controller._worker._run  # read only while the worker is idle


def _engine_batch(window, snap):
    run = _run(window)
    rows = np.asarray(snap.batch_pass.rows)
    return run, run.X_train[rows], run.Y_train[rows]


def _step(window, qtbot, press, phase):
    c = window.controller
    press(window, qtbot)
    return wait_for_snapshot(qtbot, c, lambda s: s.last_phase == phase and s.generation == c.generation)


def test_each_phase_animates_under_a_second_and_leaves_values_and_a_caption(window, qtbot):
    c, canvas = window.controller, window.canvas
    overlay = canvas.phase_overlay
    assert canvas.phase_caption_text() == HINT
    view_size = canvas.view.size()

    started = time.monotonic()
    snap = _step(window, qtbot, _phase_key, "forward")
    assert overlay.animating
    qtbot.waitUntil(lambda: overlay.frames_painted > 2)
    qtbot.waitUntil(lambda: not overlay.animating, timeout=1000)
    assert time.monotonic() - started < 1.0 + 0.5  # the animation itself is DURATION_MS
    assert DURATION_MS < 1000
    worker_barrier(qtbot, c)
    run, X, Y = _engine_batch(window, snap)
    assert canvas.phase_caption_text().startswith(f"Forward: the {len(X)} ringed examples")
    # the neurons show the batch mean of a, from the engine's forward pass
    engine = run.network.forward(run.weights, run.biases, X)
    qtbot.waitUntil(lambda: len(overlay.painted_values) == sum(snap.layer_sizes))
    shown = dict(overlay.painted_values)
    for layer, size in enumerate(snap.layer_sizes):
        for j in range(size):
            assert shown[NeuronRef(layer, j)] == format_number(engine.activations[layer][:, j].mean(), 3)

    frames = overlay.frames_painted
    snap = _step(window, qtbot, _phase_button, "backward")
    assert c.view_state.view_mode == ViewMode.GRADIENTS
    qtbot.waitUntil(lambda: overlay.frames_painted > frames + 2)
    qtbot.waitUntil(lambda: not overlay.animating, timeout=1000)
    assert canvas.phase_caption_text().startswith("Backward: δ = ∂ℓ/∂z ran right to left")
    # mean δ per neuron = ∂J/∂b on the batch (biases are not regularised), from the engine
    _, _, grad_b = loss_and_gradients(run.weights, run.biases, snap.activation_names, snap.network_spec.loss, X, Y)
    assert format_number(snap.batch_pass.backward.data_loss) in canvas.phase_caption_text()
    qtbot.waitUntil(lambda: any(ref.layer == 1 for ref, _ in overlay.painted_values))
    shown = dict(overlay.painted_values)
    assert not any(ref.layer == 0 for ref in shown)  # the inputs have no δ
    for layer in range(1, len(snap.layer_sizes)):
        for j in range(snap.layer_sizes[layer]):
            assert shown[NeuronRef(layer, j)] == format_number(grad_b[layer - 1][j], 3)

    frames = overlay.frames_painted
    before = snap
    snap = _step(window, qtbot, _phase_key, "update")
    assert snap.step == before.step + 1 and c.view_state.view_mode == ViewMode.UPDATES
    qtbot.waitUntil(lambda: overlay.frames_painted > frames + 2)
    qtbot.waitUntil(lambda: not overlay.animating, timeout=1000)
    caption = canvas.phase_caption_text()
    assert caption.startswith("Update (SGD): Δw = −η·∂J/∂w") and f"Step {snap.step} done" in caption
    qtbot.waitUntil(lambda: overlay.painted_values == [])  # no values after the update
    # the weights that changed most carry their Δw (measured on the weights themselves)
    qtbot.waitUntil(lambda: overlay.painted_moved != [])
    changes = sorted(((abs(float(snap.weights[l][i, j] - before.weights[l][i, j])), (l, i, j))
                      for l in range(len(snap.weights)) for i in range(snap.weights[l].shape[0])
                      for j in range(snap.weights[l].shape[1])), reverse=True)
    ref, text = overlay.painted_moved[0]
    assert (ref.layer, ref.i, ref.j) == changes[0][1]
    l, i, j = changes[0][1]
    assert text == f"Δw {format_number(float(snap.weights[l][i, j] - before.weights[l][i, j]), 3, signed=True)}"
    # the caption line never resized the network's view (no relayout)
    assert canvas.view.size() == view_size


def _uphill(window, before, snap):
    """Parameters whose Δp (measured on the parameters) has the sign of the engine's batch gradient."""
    run = _run(window)
    rows = np.asarray(snap.batch_pass.rows)
    _, gw, gb = loss_and_gradients(before.weights, before.biases, snap.activation_names, snap.network_spec.loss,
                                   run.X_train[rows], run.Y_train[rows], l1=snap.hyper.l1, l2=snap.hyper.l2)
    count = n = 0
    for layer in range(len(gw)):
        for g, new, old in ((gw[layer], snap.weights[layer], before.weights[layer]),
                            (gb[layer], snap.biases[layer], before.biases[layer])):
            d = new - old
            count += int(np.sum((g != 0) & (d * g > 0)))
            n += g.size
    return count, n


@pytest.mark.parametrize("optimizer, words", [("momentum", "β·v"), ("rmsprop", "√s"), ("adam", "m̂")])
def test_the_update_caption_names_the_optimizers_terms(window, qtbot, optimizer, words):
    c = window.controller
    c.set_hyperparameters(optimizer=optimizer)
    c.step(5)
    wait_for_snapshot(qtbot, c, lambda s: s.step == 5 and s.generation == c.generation)
    _step(window, qtbot, _phase_key, "forward")
    before = _step(window, qtbot, _phase_key, "backward")
    snap = _step(window, qtbot, _phase_key, "update")
    worker_barrier(qtbot, c)
    caption = window.canvas.phase_caption_text()
    assert caption.startswith("Update (") and words in caption
    if optimizer != "rmsprop":  # RMSprop only rescales: nothing goes uphill, and it does not say so
        count, n = _uphill(window, before, snap)
        assert f"{count} of {n} uphill" in caption
    assert window.canvas.phase_caption.toolTip() != caption  # the longer explanation


def test_switched_off_from_the_view_menu_nothing_animates(window, qtbot):
    action = window.animate_phases_action
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert action in view_menu.actions() and action.isChecked()
    action.trigger()
    assert not action.isChecked() and not animate_phase_steps()  # remembered
    overlay = window.canvas.phase_overlay
    seen = []
    overlay._animation.stateChanged.connect(lambda *a: seen.append(a))
    for phase in ("forward", "backward", "update"):
        _step(window, qtbot, _phase_key, phase)
        worker_barrier(qtbot, window.controller)
        assert not overlay.animating
        assert window.canvas.phase_caption_text().split(":")[0].lower().startswith(phase[:6])
    assert seen == [] and overlay.frames_painted == 0
    action.trigger()
    assert animate_phase_steps()
    _step(window, qtbot, _phase_key, "forward")
    assert overlay.animating


def test_a_new_window_takes_the_remembered_choice(qtbot, window):
    from qt_helpers import small_run

    from sandbox._qt.main_window import MainWindow

    set_animate_phase_steps(False)
    other = MainWindow(small_run(), None, window.themes, persist_settings=False)
    qtbot.addWidget(other, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    try:
        assert not other.animate_phases_action.isChecked() and not other.canvas.phase_overlay.enabled
    finally:
        other.skip_unsaved_prompt = True
        other.close()


def test_a_snapshot_mid_animation_ends_it_at_once(window, qtbot):
    c, overlay = window.controller, window.canvas.phase_overlay
    states = []
    c.snapshotChanged.connect(lambda s: states.append(overlay.animating))
    # a snapshot that leaves the run where it was (a new one-line description, as long as the
    # one before, so nothing is laid out again): the phase's values stay
    c.set_description("Watch the forward pass!")
    wait_for_snapshot(qtbot, c, lambda s: s.description == "Watch the forward pass!")
    _step(window, qtbot, _phase_key, "forward")
    assert overlay.animating
    del states[:]
    c.set_description("Watch the forward pass.")
    wait_for_snapshot(qtbot, c, lambda s: s.description == "Watch the forward pass.")
    assert states and states[0] is False
    assert overlay.step is not None and window.canvas.phase_caption_text().startswith("Forward")
    # a snapshot that moves the run on (an edit drops the half-run step)
    _step(window, qtbot, _phase_key, "backward")
    assert overlay.animating
    del states[:]
    c.edit_weight(WeightRef(0, 0, 0), 0.25)
    wait_for_snapshot(qtbot, c, lambda s: s.generation == c.generation)
    assert states and states[0] is False  # ended by the snapshot itself, not by its timer
    assert window.canvas.phase_caption_text() == HINT and overlay.step is None


def test_playing_never_animates_or_shows_values(window, qtbot):
    c, overlay = window.controller, window.canvas.phase_overlay
    taken = []
    c.snapshotTaken.connect(taken.append)
    c.set_speed(None)
    c.play()
    qtbot.waitUntil(lambda: len(taken) >= 30, timeout=20_000)
    c.pause()
    worker_barrier(qtbot, c)
    assert overlay.frames_painted == 0 and overlay.step is None and overlay.painted_values == []


def test_with_an_example_focused_the_neurons_show_its_values(window, qtbot):
    c, overlay = window.controller, window.canvas.phase_overlay
    snap = _step(window, qtbot, _phase_key, "forward")
    qtbot.waitUntil(lambda: not overlay.animating, timeout=1000)
    worker_barrier(qtbot, c)
    run = _run(window)
    e = 7
    c.view_state.focused_example = e
    c.view_state.data_source = DataSource.EXAMPLE
    engine = run.network.forward(run.weights, run.biases, run.X_train[e:e + 1])
    qtbot.waitUntil(lambda: dict(overlay.painted_values).get(NeuronRef(1, 0)) == format_number(engine.activations[1][0, 0], 3))
    shown = dict(overlay.painted_values)
    for layer, size in enumerate(snap.layer_sizes):
        for j in range(size):
            assert shown[NeuronRef(layer, j)] == format_number(engine.activations[layer][0, j], 3)
    assert "the focused example's a" in window.canvas.phase_caption_text()
    c.view_state.data_source = DataSource.TRAINING_SET  # back to the batch mean
    assert "mean a" in window.canvas.phase_caption_text()
    # a focus that is no example of this run never breaks the canvas: it shows the mean
    c.view_state.focused_example = 10 ** 6
    c.view_state.data_source = DataSource.EXAMPLE
    assert "mean a" in window.canvas.phase_caption_text()
